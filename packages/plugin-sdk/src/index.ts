/**
 * @flotilla/plugin-sdk — write a Flotilla provider plugin: implement the
 * services you support and call `serve()`.
 *
 * This entry point is everything a plugin's own code names, so a plugin can
 * import from this package alone: `serve()` and the types a handler is written
 * against, the plugin contract (flotilla.plugin.v1), the error classes a
 * handler throws, `secret://` references, the schema check and the config
 * diff, typed config. The test kit (spawn a plugin as a host would, serve it
 * in-process, typed clients) is `@flotilla/plugin-sdk/testing`. How the SDK speaks to a
 * host (handshake, stdio relay, lifecycle, listener) is internal: it lives in
 * `@flotilla/protocol/wire` and this package's own modules, never here.
 */

// The plugin contract, flotilla.plugin.v1, one statement per proto file: every message (type and
// schema), enum and service descriptor a handler reads, builds or is typed from, and the registry
// a plugin's tests may read back. Not the host API (flotilla.host.v1) nor the file descriptors:
// plugins have no use for either.

// drift.proto: DriftDetectorService.

export {
  type DetectDriftRequest,
  DetectDriftRequestSchema,
  type DetectDriftResponse,
  DetectDriftResponseSchema,
  DriftDetectorService,
} from "@flotilla/protocol";

// job.proto: a job, its target, handle, state and log lines.

export {
  type AwsEcsTarget,
  AwsEcsTargetSchema,
  type AzureContainerInstancesTarget,
  AzureContainerInstancesTargetSchema,
  type DigitalOceanAppTarget,
  DigitalOceanAppTargetSchema,
  type GcpCloudRunTarget,
  GcpCloudRunTargetSchema,
  type JobHandle,
  JobHandleSchema,
  type JobSpec,
  JobSpecSchema,
  JobState,
  JobStateSchema,
  type JobStatus,
  JobStatusSchema,
  type JobTarget,
  JobTargetSchema,
  type LocalTarget,
  LocalTargetSchema,
  type LogLine,
  LogLineSchema,
  LogStream,
  LogStreamSchema,
  type Resources,
  ResourcesSchema,
} from "@flotilla/protocol";

// provider.proto: IaCProviderService, the service every plugin serves.

export {
  type ConfigureRequest,
  ConfigureRequestSchema,
  type ConfigureResponse,
  ConfigureResponseSchema,
  type CredentialReference,
  CredentialReferenceSchema,
  type DescribeRequest,
  DescribeRequestSchema,
  type DescribeResponse,
  DescribeResponseSchema,
  IaCProviderService,
} from "@flotilla/protocol";

// region.proto: RegionListerService.

export {
  type ListRegionsRequest,
  ListRegionsRequestSchema,
  type ListRegionsResponse,
  ListRegionsResponseSchema,
  type Region,
  RegionListerService,
  RegionSchema,
} from "@flotilla/protocol";

// registry.proto: what the SDK builds from the served services; tests read it back.

export {
  type ConformanceJobs,
  ConformanceJobsSchema,
  type ContractRegistry,
  ContractRegistrySchema,
  ContractRegistryService,
  type GetContractRegistryRequest,
  GetContractRegistryRequestSchema,
  type GetContractRegistryResponse,
  GetContractRegistryResponseSchema,
} from "@flotilla/protocol";

// resource.proto: ResourceDriverService.

export {
  type CheckResourceHealthRequest,
  CheckResourceHealthRequestSchema,
  type CheckResourceHealthResponse,
  CheckResourceHealthResponseSchema,
  type CreateResourceRequest,
  CreateResourceRequestSchema,
  type CreateResourceResponse,
  CreateResourceResponseSchema,
  type DeleteResourceRequest,
  DeleteResourceRequestSchema,
  type DeleteResourceResponse,
  DeleteResourceResponseSchema,
  type Diagnostic,
  DiagnosticSchema,
  DiagnosticSeverity,
  DiagnosticSeveritySchema,
  type DiffResourceRequest,
  DiffResourceRequestSchema,
  type DiffResourceResponse,
  DiffResourceResponseSchema,
  type FieldChange,
  FieldChangeSchema,
  type ReadResourceRequest,
  ReadResourceRequestSchema,
  type ReadResourceResponse,
  ReadResourceResponseSchema,
  ResourceDriverService,
  type ResourceRef,
  ResourceRefSchema,
  type ResourceState,
  ResourceStateSchema,
  type ScaleResourceRequest,
  ScaleResourceRequestSchema,
  type ScaleResourceResponse,
  ScaleResourceResponseSchema,
  type SensitiveKeysRequest,
  SensitiveKeysRequestSchema,
  type SensitiveKeysResponse,
  SensitiveKeysResponseSchema,
  type TroubleshootResourceRequest,
  TroubleshootResourceRequestSchema,
  type TroubleshootResourceResponse,
  TroubleshootResourceResponseSchema,
  type UpdateResourceRequest,
  UpdateResourceRequestSchema,
  type UpdateResourceResponse,
  UpdateResourceResponseSchema,
} from "@flotilla/protocol";

// runner.proto: IaCProviderRunnerService.

export {
  type BatchJobStatusRequest,
  BatchJobStatusRequestSchema,
  type BatchJobStatusResponse,
  BatchJobStatusResponseSchema,
  type CancelJobRequest,
  CancelJobRequestSchema,
  type CancelJobResponse,
  CancelJobResponseSchema,
  IaCProviderRunnerService,
  type JobError,
  JobErrorSchema,
  type JobLogsRequest,
  JobLogsRequestSchema,
  type JobLogsResponse,
  JobLogsResponseSchema,
  type JobStatusRequest,
  JobStatusRequestSchema,
  type JobStatusResponse,
  JobStatusResponseSchema,
  type JobStatusResult,
  JobStatusResultSchema,
  type RunJobRequest,
  RunJobRequestSchema,
  type RunJobResponse,
  RunJobResponseSchema,
} from "@flotilla/protocol";

// The errors a handler throws (each reaches the caller as its gRPC code), and `toJobError` for the
// per-job failure a batch status reports. How an error becomes a status and back (`toStatus`,
// `fromStatus`, `errorForCode`) is the SDK's and the host's business, not a handler's.

export {
  AlreadyExistsError,
  CanceledError,
  Code,
  DeadlineExceededError,
  FailedPreconditionError,
  FlotillaError,
  type FlotillaErrorOptions,
  InternalError,
  InvalidArgumentError,
  isFlotillaError,
  type JobErrorShape,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  toJobError,
  UnauthenticatedError,
  UnavailableError,
  UnimplementedError,
} from "@flotilla/protocol";

// A config checked against the very schema the plugin publishes, in the words the host uses too, and its
// secrets (the values the schema marks `writeOnly: true`) redacted the way the host's tools redact them.

export {
  checkAgainstSchema,
  formatProblems,
  REDACTED_VALUE,
  redactSensitive,
  type SchemaNode,
  type SchemaProblem,
  sensitiveKeys,
} from "@flotilla/protocol";

// `secret://` references, as credential references and a job's secret_env carry them.

export {
  isSecretReference,
  parseSecretEnv,
  parseSecretReference,
  SECRET_REFERENCE_PREFIX,
  type SecretReference,
} from "@flotilla/protocol";
// A job's timeout as every provider reads it.
export { jobTimeoutMs } from "./job-timeout.js";
// Names for what a plugin creates, derived from a job's idempotency key within a provider's rules.
export { type ResourceNameRules, resourceNameFor } from "./resource-names.js";
export {
  envSecretStore,
  fileSecretStore,
  localSecretStores,
  resolveSecretEnv,
  resolveSecretReference,
  type SecretStoreResolver,
  type SecretStores,
} from "./secret-stores.js";

// What the SDK itself offers: serve() and its options, the types a plugin is written against, the
// logger, the config diff for resource drivers.

/**
 * Typed config and job targets: a JSON Schema declared once is published, checked, defaulted and typed
 * (`context.config`); `sensitive` marks a secret.
 */
export {
  type ConfigOf,
  type ConfigOptions,
  defineConfig,
  defineJobTarget,
  type JobTargetKind,
  type JobTargetOptions,
  type ObjectSchema,
  parseJson,
  sensitive,
  type TypedConfig,
  type TypedJobTarget,
} from "./config.js";
/** The "not configured yet" guard for what a plugin builds in Configure; the config itself is `context.config`. */
export { Configured } from "./configured.js";
export type {
  ConfigDeclaration,
  DescService,
  HandlerContext,
  JsonSchema,
  PluginDefinition,
  PluginLogger,
  ProviderImpl,
  ServerStreamingHandler,
  ServiceImpl,
  UnaryHandler,
} from "./definition.js";
export { type ConfigChange, canonicalJson, type DiffRules, diffConfig, maskedJson } from "./json-diff.js";
export { createLogger, type LoggerOptions, type LogLevel } from "./logger.js";
/** One shared request budget per API quota (a token bucket), so many followed jobs stay inside it. */
export { RequestBudget, type RequestBudgetOptions } from "./request-budget.js";
/** ResourceDriver and DriftDetector services from a plugin's resource types. */
export {
  createDriftDetector,
  createResourceDriver,
  type DiagnosticInit,
  driftDetectingTypes,
  jsonBytes,
  MAX_REPLICAS,
  parseJsonObject,
  type ResourceStateInit,
  type ResourceType,
  type ResourceTypes,
} from "./resource-driver.js";

// What every cloud runner needs: a job's log followed from a cursor, and one batching status poller
// per API.

export { BatchStatusPoller, type BatchStatusPollerOptions, type StatusLookup } from "./batch-status-poller.js";
export {
  classifyReadError,
  defaultMaxDrainMs,
  defaultMaxThrottleBackoffMs,
  type FollowLogOptions,
  type FollowOptions,
  followLog,
  type LogLineFields,
  type LogLineInit,
  type LogPage,
  type ReadFailure,
} from "./follow-log.js";
export {
  type DecodeLogCursorOptions,
  decodeLogCursor,
  encodeLogCursor,
  LOG_CURSOR_VERSION,
  LOG_HEAD,
  type LogPosition,
} from "./log-cursor.js";

// Time: a sleep that ends when the call is cancelled, protobuf Timestamp and Duration to and from
// Date and milliseconds (protobuf-es's own), and durations as people write them ("30s", "1h30m").

export {
  durationFromMs,
  durationMs,
  timestampDate,
  timestampFromDate,
  timestampFromMs,
  timestampMs,
} from "@bufbuild/protobuf/wkt";
export { sleep } from "@flotilla/process";
export { formatDuration, MAX_DURATION, parseDuration } from "@flotilla/protocol";
/** What the registry reports as the SDK a plugin was built with. */
export { SDK_NAME_AND_VERSION, SDK_VERSION } from "./sdk-version.js";
export { type ServeOptions, serve } from "./serve.js";
/** The defaults of {@link ServeOptions}. */
export { DEFAULT_GRACE_PERIOD_MS, DEFAULT_MAX_MESSAGE_BYTES } from "./server.js";
