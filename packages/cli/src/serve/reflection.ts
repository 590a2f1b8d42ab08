/**
 * gRPC server reflection (grpc.reflection.v1) for `flotilla serve`, so that grpcurl, `buf curl` and other
 * generic tools call the host API without its .proto files: the services served, and for a symbol or a
 * file name the FileDescriptorProtos it needs, taken from the descriptors the code was generated with.
 */
import { create, type DescFile, type DescMessage, type DescService, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { reflection } from "@flotilla/protocol/wire";

/** The reflection service's implementation for a server serving `services`. */
export function reflectionService(services: readonly DescService[]) {
  const files = new Map<string, DescFile>();
  const symbols = new Map<string, DescFile>();
  const addMessage = (message: DescMessage, file: DescFile): void => {
    symbols.set(message.typeName, file);
    for (const nested of message.nestedMessages) addMessage(nested, file);
    for (const nested of message.nestedEnums) symbols.set(nested.typeName, file);
  };
  const addFile = (file: DescFile): void => {
    if (files.has(file.proto.name)) return;
    files.set(file.proto.name, file);
    for (const service of file.services) {
      symbols.set(service.typeName, file);
      for (const method of service.methods) symbols.set(`${service.typeName}.${method.name}`, file);
    }
    for (const message of file.messages) addMessage(message, file);
    for (const enumeration of file.enums) symbols.set(enumeration.typeName, file);
    for (const dependency of file.dependencies) addFile(dependency);
  };
  const all = [...services, reflection.ServerReflection];
  for (const service of all) addFile(service.file);

  /** The file and everything it imports, each once: a client needs them all to build the file. */
  const withDependencies = (file: DescFile): Uint8Array[] => {
    const seen = new Set<string>();
    const out: Uint8Array[] = [];
    const visit = (f: DescFile): void => {
      if (seen.has(f.proto.name)) return;
      seen.add(f.proto.name);
      out.push(toBinary(FileDescriptorProtoSchema, f.proto));
      for (const dependency of f.dependencies) visit(dependency);
    };
    visit(file);
    return out;
  };

  const answer = (request: reflection.ServerReflectionRequest): reflection.ServerReflectionResponse => {
    const base = { validHost: request.host, originalRequest: request };
    const notFound = (what: string) =>
      create(reflection.ServerReflectionResponseSchema, {
        ...base,
        messageResponse: { case: "errorResponse", value: { errorCode: 5, errorMessage: `${what} is not served here` } },
      });
    const filesOf = (file: DescFile | undefined, what: string) =>
      file
        ? create(reflection.ServerReflectionResponseSchema, {
            ...base,
            messageResponse: { case: "fileDescriptorResponse", value: { fileDescriptorProto: withDependencies(file) } },
          })
        : notFound(what);
    const asked = request.messageRequest;
    switch (asked.case) {
      case "listServices":
        return create(reflection.ServerReflectionResponseSchema, {
          ...base,
          messageResponse: {
            case: "listServicesResponse",
            value: { service: all.map((service) => ({ name: service.typeName })) },
          },
        });
      case "fileContainingSymbol":
        return filesOf(symbols.get(asked.value.replace(/^\./, "")), `symbol ${JSON.stringify(asked.value)}`);
      case "fileByFilename":
        return filesOf(files.get(asked.value), `file ${JSON.stringify(asked.value)}`);
      case "allExtensionNumbersOfType":
        // The host API declares no extensions.
        return create(reflection.ServerReflectionResponseSchema, {
          ...base,
          messageResponse: {
            case: "allExtensionNumbersResponse",
            value: { baseTypeName: asked.value, extensionNumber: [] },
          },
        });
      case "fileContainingExtension":
        return notFound(`extension ${asked.value.extensionNumber} of ${JSON.stringify(asked.value.containingType)}`);
      default:
        return create(reflection.ServerReflectionResponseSchema, {
          ...base,
          messageResponse: {
            case: "errorResponse",
            value: { errorCode: 3, errorMessage: "the request asks for nothing this server knows how to answer" },
          },
        });
    }
  };

  return {
    async *serverReflectionInfo(requests: AsyncIterable<reflection.ServerReflectionRequest>) {
      for await (const request of requests) yield answer(request);
    },
  };
}
