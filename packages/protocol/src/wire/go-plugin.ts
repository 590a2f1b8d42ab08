// Re-exports go-plugin's services under one name; see wire/plugin/*.proto.
export * from "../gen/wire/plugin/grpc_controller_pb.js";
export * from "../gen/wire/plugin/grpc_stdio_pb.js";
