/**
 * One unary host → plugin call over grpc-js with protobuf-es messages,
 * honouring the caller's AbortSignal and deadline and mapping failures to
 * Flotilla errors.
 */
import {
  create,
  type DescMessage,
  type DescMethodUnary,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import { CanceledError } from "@flotilla/protocol";
import { errorFromServiceError, grpcMethodDefinition } from "@flotilla/protocol/wire";
import type { Client } from "@grpc/grpc-js";
import { type CallOptions, deadlineOf, metadataOf } from "./call-options.js";

/** Calls `method` on `client`'s channel. */
export function unaryCall<I extends DescMessage, O extends DescMessage>(
  client: Client,
  method: DescMethodUnary<I, O>,
  request: MessageInitShape<I>,
  options?: CallOptions,
): Promise<MessageShape<O>> {
  const def = grpcMethodDefinition(method);
  const signal = options?.signal;
  if (signal?.aborted)
    return Promise.reject(
      new CanceledError(`${method.parent.name}.${method.name} was cancelled before it started`, {
        cause: signal.reason,
      }),
    );
  return new Promise((resolve, reject) => {
    const deadline = deadlineOf(options);
    const call = client.makeUnaryRequest(
      def.path,
      def.requestSerialize,
      def.responseDeserialize as (b: Buffer) => MessageShape<O>,
      create(method.input, request),
      metadataOf(options),
      deadline ? { deadline } : {},
      (err, response) => {
        signal?.removeEventListener("abort", onAbort);
        if (err) reject(errorFromServiceError(err));
        else resolve(response as MessageShape<O>);
      },
    );
    const onAbort = () => call.cancel();
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
