/**
 * @flotilla/host — start provider plugins, talk to them over gRPC, run jobs
 * through them. The plugin manager (`PluginHost`) and the typed provider
 * clients (`host.provider(name)`) are exported here.
 *
 * What an embedder needs and nothing more: execution environments
 * (SandboxRunner, the exec_env factory, the container runners) are
 * `@flotilla/exec`, and the `flotilla` command is `@flotilla/cli`.
 */
export { type CertificatePair, generateCertificate } from "./plugin/auto-mtls.js";
export { resolveExecutable, sha256File, verifyChecksum } from "./plugin/checksum.js";
export { BASE_ENV_KEYS, buildPluginEnvironment, FlotillaPluginEnv } from "./plugin/environment.js";
export type { PluginLogLevel, PluginLogRecord, PluginLogSink, PluginLogSource } from "./plugin/log-record.js";
export { pinoLogSink } from "./plugin/log-sink.js";
export {
  ManagedPlugin,
  type ManagedPluginEvents,
  type PluginCrash,
  type PluginState,
} from "./plugin/managed-plugin.js";
export { DEFAULT_START_TIMEOUT_MS, type PluginConfig, validatePluginConfig } from "./plugin/plugin-config.js";
export { PluginError, type PluginErrorDetails, type PluginPhase } from "./plugin/plugin-error.js";
export { PluginHost, type PluginHostEvents, type PluginHostOptions } from "./plugin/plugin-manager.js";
export { PluginProcess, type StartTimings, type StopTimeouts } from "./plugin/plugin-process.js";
export { type RestartDecision, RestartPolicy, type RestartPolicyOptions } from "./plugin/restart-policy.js";
export type { ExitInfo } from "./plugin/spawn.js";
export {
  type DriftDetectorClient,
  ProviderClient,
  type ProviderConnection,
  type ProviderServiceClient,
  type RegionListerClient,
  type ResourceDriverClient,
  type RunnerClient,
} from "./providerclient/provider-client.js";
export { createServiceClient, type ServiceClient } from "./providerclient/service-client.js";
export type { CallOptions } from "./rpc/call-options.js";
export { errorFromServiceError, isServiceError } from "./rpc/status-error.js";
export type { PluginTransport } from "./rpc/transport.js";
