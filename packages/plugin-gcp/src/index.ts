/**
 * @flotilla/plugin-gcp — the GCP provider plugin: Cloud Run jobs with Cloud
 * Logging, Cloud Run regions. Run it through a host (`node dist/main.js`);
 * import it for in-process use.
 */
export { type GcpClientSettings, GcpClients, type GcpServiceAccountKey } from "./clients.js";
export {
  type GcpProviderConfig,
  gcpConfig,
  gcpConfigSchema,
  gcpTarget,
  gcpTargetSchema,
  parseGcpConfig,
  type ResolvedCloudRunTarget,
  resolveCloudRunTarget,
} from "./config-schema.js";
export { type GcpEndpoint, parseGcpEndpoint } from "./endpoint.js";
export { translateGcpError } from "./errors.js";
export { jobIdFor, secretManagerStore } from "./job-spec.js";
export { jobStatusFromExecution } from "./job-status.js";
export { createGcpPlugin, type GcpPlugin, gcpPluginInfo } from "./plugin.js";
export { listGcpRegions } from "./regions.js";
