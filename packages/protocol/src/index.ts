/**
 * @flotilla/protocol — what the Flotilla host and plugin SDK share, so the
 * two sides cannot disagree. This entry point is the contract tier: what a
 * caller of a plugin, a plugin, or a host client names in its own code.
 *
 * How the contract travels (the go-plugin handshake, grpc-js service
 * definitions, the AutoMTLS certificate, go-plugin's and gRPC health's own
 * services) is `@flotilla/protocol/wire`: only the two ends of the wire (the
 * host and the plugin SDK) and their test kits need it.
 */

/** Human durations ("30s", "1h30m") as flotilla.yaml, the CLI and plugin configs write them. */
export * from "./duration.js";
/**
 * The error model: one class per code callers branch on, and its map to and from gRPC statuses and
 * the contract's JobError. The status map stays here with the classes, though it names gRPC: which
 * code means what is part of the contract, and both ends must translate with the one table.
 */
export * from "./errors.js";
/** The host API (flotilla.host.v1), for clients that drive a running host. */
export * as hostv1 from "./gen/contract/flotilla/host/v1/host_pb.js";
// The plugin contract (flotilla.plugin.v1): messages, enums and service descriptors. Its version
// number (APP_PROTOCOL_VERSION) is in ./wire, with the handshake that carries and negotiates it.
export * from "./gen/contract/flotilla/plugin/v1/drift_pb.js";
export * from "./gen/contract/flotilla/plugin/v1/job_pb.js";
export * from "./gen/contract/flotilla/plugin/v1/provider_pb.js";
export * from "./gen/contract/flotilla/plugin/v1/region_pb.js";
export * from "./gen/contract/flotilla/plugin/v1/registry_pb.js";
export * from "./gen/contract/flotilla/plugin/v1/resource_pb.js";
export * from "./gen/contract/flotilla/plugin/v1/runner_pb.js";
/**
 * The message format of a config or target check against a JSON Schema: part of the contract
 * because a plugin publishes its schemas in the registry and the host checks config against them.
 */
export * from "./schema-check.js";
/**
 * Which values of a config are secrets, as its published schema marks them (`writeOnly: true`): the
 * plugin's SDK and the host's tools redact the same keys.
 */
export * from "./schema-sensitive.js";
/** The one grammar of `secret://` references, which the contract's credential references and secret_env carry. */
export * from "./secret-reference.js";
/**
 * The contract's services by role (required, optional) and the names a ContractRegistry lists: a
 * rule of the contract (a registry lists exactly the optional services served), which the SDK and
 * the host's typed clients both key their services by.
 */
export * from "./services.js";
