/**
 * A bare gRPC client for talking to a plugin with nothing but the generated
 * descriptors and @grpc/grpc-js: no Flotilla host in between. The Go plugin
 * test uses it to show the wire itself is compatible, independently of the
 * host's own client code.
 */
import {
  create,
  type DescMessage,
  type DescMethodServerStreaming,
  type DescMethodUnary,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import { grpcMethodDefinition } from "@flotilla/protocol/wire";
import { type ChannelCredentials, Client, type ClientReadableStream, Metadata, type ServiceError } from "@grpc/grpc-js";

/** Per-call options. */
export interface WireCallOptions {
  /** Fail the call with DEADLINE_EXCEEDED after this many milliseconds. */
  deadlineMs?: number;
}

/** One connection to a plugin, for calls on any service. */
export class WireClient {
  private readonly client: Client;

  /** `target` is a grpc-js target, e.g. `unix:/tmp/plugin123`. */
  constructor(target: string, credentials: ChannelCredentials, options: Record<string, string | number> = {}) {
    this.client = new Client(target, credentials, options);
  }

  /** Calls a unary method. */
  unary<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    request: MessageInitShape<I>,
    options: WireCallOptions = {},
  ): Promise<MessageShape<O>> {
    const definition = grpcMethodDefinition(method);
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        definition.path,
        definition.requestSerialize,
        definition.responseDeserialize as (bytes: Buffer) => MessageShape<O>,
        create(method.input, request),
        new Metadata(),
        options.deadlineMs === undefined ? {} : { deadline: Date.now() + options.deadlineMs },
        (error: ServiceError | null, response?: MessageShape<O>) => {
          if (error || !response) reject(error ?? new Error(`${definition.path} returned no response`));
          else resolve(response);
        },
      );
    });
  }

  /** Opens a server stream. */
  serverStream<I extends DescMessage, O extends DescMessage>(
    method: DescMethodServerStreaming<I, O>,
    request: MessageInitShape<I>,
  ): ClientReadableStream<MessageShape<O>> {
    const definition = grpcMethodDefinition(method);
    return this.client.makeServerStreamRequest(
      definition.path,
      definition.requestSerialize,
      definition.responseDeserialize as (bytes: Buffer) => MessageShape<O>,
      create(method.input, request),
      new Metadata(),
      {},
    );
  }

  /** Closes the connection. */
  close(): void {
    this.client.close();
  }
}
