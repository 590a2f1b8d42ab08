/**
 * Bridges protobuf-es service descriptors to @grpc/grpc-js, the transport
 * Flotilla uses on both sides (see docs/transport.md for why grpc-js and not
 * connect-node). Messages are encoded with protobuf-es, so the generated
 * types are the only types either side sees.
 */
import { type DescMessage, type DescMethod, type DescService, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";

/** The HTTP/2 path of a method, e.g. `/flotilla.plugin.v1.RegionListerService/ListRegions`. */
export function methodPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

function serializer(schema: DescMessage) {
  // biome-ignore lint/suspicious/noExplicitAny: grpc-js types messages as any.
  return (message: any): Buffer => {
    const bytes = toBinary(schema, message);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function deserializer(schema: DescMessage) {
  return (bytes: Buffer) => fromBinary(schema, bytes);
}

/** One grpc-js method definition from a protobuf-es method descriptor. */
export function grpcMethodDefinition(method: DescMethod): MethodDefinition<unknown, unknown> {
  return {
    path: methodPath(method),
    originalName: method.localName,
    requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
    responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
    requestSerialize: serializer(method.input),
    requestDeserialize: deserializer(method.input),
    responseSerialize: serializer(method.output),
    responseDeserialize: deserializer(method.output),
  };
}

/**
 * A grpc-js ServiceDefinition keyed by each method's local (camelCase)
 * name, as `grpc.Server.addService` and `grpc.makeGenericClientConstructor`
 * expect.
 */
export function grpcServiceDefinition(service: DescService): ServiceDefinition {
  const definition: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) definition[method.localName] = grpcMethodDefinition(method);
  return definition as ServiceDefinition;
}
