/**
 * A typed client for one contract service, built from its generated
 * descriptor: one method per RPC, taking the request's init shape and
 * returning protobuf-es messages (an AsyncIterable for server streams).
 */
import type { DescMethodServerStreaming, DescMethodUnary, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import { UnimplementedError } from "@flotilla/protocol";
import type { CallOptions } from "../rpc/call-options.js";
import type { PluginTransport } from "../rpc/transport.js";

/** The client of service `S`. */
export type ServiceClient<S extends GenService<GenServiceMethods>> = {
  [K in keyof S["method"]]: S["method"][K] extends DescMethodUnary<infer I, infer O>
    ? (request?: MessageInitShape<I>, options?: CallOptions) => Promise<MessageShape<O>>
    : S["method"][K] extends DescMethodServerStreaming<infer I, infer O>
      ? (request?: MessageInitShape<I>, options?: CallOptions) => AsyncIterable<MessageShape<O>>
      : never;
};

/** Builds the client of `service` over `transport`. Only unary and server-streaming methods exist in the contract. */
export function createServiceClient<S extends GenService<GenServiceMethods>>(
  service: S,
  transport: PluginTransport,
): ServiceClient<S> {
  const client: Record<string, unknown> = {};
  for (const method of service.methods) {
    if (method.methodKind === "unary") {
      client[method.localName] = (request: MessageInitShape<never> = {} as never, options?: CallOptions) =>
        transport.unary(method as DescMethodUnary, request, options);
    } else if (method.methodKind === "server_streaming") {
      client[method.localName] = (request: MessageInitShape<never> = {} as never, options?: CallOptions) =>
        transport.serverStream(method as DescMethodServerStreaming, request, options);
    } else {
      throw new UnimplementedError(
        `${service.typeName}.${method.name} is ${method.methodKind}; the host supports unary and server-streaming methods only`,
      );
    }
  }
  return client as ServiceClient<S>;
}
