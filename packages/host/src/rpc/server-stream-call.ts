/**
 * One server-streaming host → plugin call as an AsyncIterable of
 * protobuf-es messages; breaking out of the loop cancels the call.
 */
import type { DescMessage, DescMethodServerStreaming, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import { CanceledError } from "@flotilla/protocol";
import { errorFromServiceError, grpcMethodDefinition, isServiceError } from "@flotilla/protocol/wire";
import type { Client } from "@grpc/grpc-js";
import { type CallOptions, deadlineOf, metadataOf } from "./call-options.js";

/** Starts `method` on `client`'s channel when iteration starts. */
export async function* serverStreamCall<I extends DescMessage, O extends DescMessage>(
  client: Client,
  method: DescMethodServerStreaming<I, O>,
  request: MessageInitShape<I>,
  options?: CallOptions,
): AsyncGenerator<MessageShape<O>> {
  const signal = options?.signal;
  if (signal?.aborted) {
    throw new CanceledError(`${method.parent.name}.${method.name} was cancelled before it started`, {
      cause: signal.reason,
    });
  }
  const def = grpcMethodDefinition(method);
  const deadline = deadlineOf(options);
  const call = client.makeServerStreamRequest(
    def.path,
    def.requestSerialize,
    def.responseDeserialize as (b: Buffer) => MessageShape<O>,
    create(method.input, request),
    metadataOf(options),
    deadline ? { deadline } : {},
  );
  const onAbort = () => call.cancel();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for await (const message of call) yield message as MessageShape<O>;
  } catch (err) {
    throw isServiceError(err) ? errorFromServiceError(err) : err;
  } finally {
    signal?.removeEventListener("abort", onAbort);
    call.cancel();
  }
}
