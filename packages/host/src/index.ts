/**
 * @flotilla/host — start provider plugins, talk to them over gRPC, run jobs
 * through them. The plugin manager (`PluginHost`), its configuration and
 * events, and the typed provider clients (`host.provider(name)`) are exported
 * here, and nothing of how they work inside.
 *
 * What an embedder needs and nothing more: execution environments
 * (SandboxRunner, the exec_env factory, the container runners) are
 * `@flotilla/exec`, and the `flotilla` command is `@flotilla/cli`.
 */
export type { PluginLogLevel, PluginLogRecord, PluginLogSink, PluginLogSource } from "./plugin/log-record.js";
export { pinoLogSink } from "./plugin/log-sink.js";
export type { PluginCrash, PluginState } from "./plugin/managed-plugin.js";
export {
  DEFAULT_START_TIMEOUT_MS,
  MAX_START_TIMEOUT_MS,
  type PluginConfig,
  validatePluginConfig,
} from "./plugin/plugin-config.js";
export { PluginError, type PluginErrorDetails, type PluginPhase } from "./plugin/plugin-error.js";
export { PluginHost, type PluginHostEvents, type PluginHostOptions } from "./plugin/plugin-manager.js";
export type { StartTimings, StopTimeouts } from "./plugin/plugin-process.js";
export type { RestartPolicyOptions } from "./plugin/restart-policy.js";
export type { ExitInfo } from "./plugin/spawn.js";
export {
  type DriftDetectorClient,
  ProviderClient,
  type ProviderServiceClient,
  type RegionListerClient,
  type ResourceDriverClient,
  type RunnerClient,
} from "./providerclient/provider-client.js";
export type { ServiceClient } from "./providerclient/service-client.js";
export type { CallOptions } from "./rpc/call-options.js";
