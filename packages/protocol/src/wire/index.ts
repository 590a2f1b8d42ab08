/**
 * @flotilla/protocol/wire — how the contract travels between a host and a
 * plugin process, below the contract: go-plugin's handshake (environment and
 * line), the AutoMTLS certificate, the gRPC channel, the grpc-js service
 * definitions built from the contract's descriptors, and the services every
 * go-plugin plugin serves besides the contract (stdio, controller, health).
 * For the host, the plugin SDK and their test kits; plugin authors do not
 * need it: the SDK speaks all of this for them.
 */

/** The standard gRPC health service (grpc.health.v1), which a go-plugin host may probe. */
export * as health from "../gen/wire/grpc/health/v1/health_pb.js";
/** The standard gRPC server reflection service (grpc.reflection.v1), which `flotilla serve` answers. */
export * as reflection from "../gen/wire/grpc/reflection/v1/reflection_pb.js";
/** The AutoMTLS certificate both ends generate; one generator, so the two cannot drift apart. */
export * from "./auto-mtls-certificate.js";
/** go-plugin's own services (package `plugin`): stdio and controller. */
export * as goplugin from "./go-plugin.js";
/**
 * grpc-js service definitions from protobuf-es descriptors: the transport binding of the
 * contract, which both ends register or call with.
 */
export * from "./grpc-service.js";
/**
 * The go-plugin handshake: its environment variables, the magic cookie, the line format, and
 * the protocol versions negotiated in it (APP_PROTOCOL_VERSION is the contract's version as the
 * handshake carries it).
 */
export * from "./handshake.js";
/** Reading a plugin's handshake line from its stdout, with a deadline and a size bound. */
export * from "./handshake-line.js";
/** The gRPC channel to a plugin: its target, message limit and pinned AutoMTLS credentials. */
export * from "./plugin-channel.js";
/** The environment a host gives a plugin process, and the secret values to mask in its output. */
export * from "./plugin-environment.js";
/** A grpc-js status error as the FlotillaError of its code, as every client of a plugin raises it. */
export * from "./status-error.js";
