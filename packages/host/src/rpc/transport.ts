/**
 * What typed service clients call through: one unary and one
 * server-streaming entry point. The managed plugin implements it so clients
 * survive plugin restarts and calls in flight fail at once when it crashes.
 */
import type {
  DescMessage,
  DescMethodServerStreaming,
  DescMethodUnary,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import type { CallOptions } from "./call-options.js";

/** Sends calls to a plugin. */
export interface PluginTransport {
  /** One unary call. */
  unary<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    request: MessageInitShape<I>,
    options?: CallOptions,
  ): Promise<MessageShape<O>>;
  /** One server-streaming call; the call starts when iteration starts. */
  serverStream<I extends DescMessage, O extends DescMessage>(
    method: DescMethodServerStreaming<I, O>,
    request: MessageInitShape<I>,
    options?: CallOptions,
  ): AsyncIterable<MessageShape<O>>;
}
