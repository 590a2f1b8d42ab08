/**
 * @flotilla/protocol — what the Flotilla host and plugin SDK share, so the
 * two sides cannot disagree: the generated contract, the go-plugin wire
 * services, the handshake format and the error model.
 */
export * from "./auto-mtls-certificate.js";
export * from "./errors.js";
/** The host API (flotilla.host.v1), for clients that drive a running host. */
export * as hostv1 from "./gen/contract/flotilla/host/v1/host_pb.js";
export * from "./gen/contract/flotilla/plugin/v1/drift_pb.js";
export * from "./gen/contract/flotilla/plugin/v1/job_pb.js";
export * from "./gen/contract/flotilla/plugin/v1/provider_pb.js";
export * from "./gen/contract/flotilla/plugin/v1/region_pb.js";
export * from "./gen/contract/flotilla/plugin/v1/registry_pb.js";
export * from "./gen/contract/flotilla/plugin/v1/resource_pb.js";
export * from "./gen/contract/flotilla/plugin/v1/runner_pb.js";
/** The standard gRPC health service (grpc.health.v1). */
export * as health from "./gen/wire/grpc/health/v1/health_pb.js";
export * from "./grpc-service.js";
export * from "./handshake.js";
export * from "./schema-check.js";
export * from "./secret-reference.js";
export * from "./services.js";
/** go-plugin's own services (package `plugin`): stdio and controller. */
export * as goplugin from "./wire/go-plugin.js";
