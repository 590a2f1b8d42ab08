/**
 * A wire-level fake of the Google Cloud APIs the GCP plugin calls: Cloud Run
 * Admin API v2 (Jobs, Executions, Tasks, Services, long-running operations, Locations)
 * and Cloud Logging v2 (ListLogEntries, TailLogEntries), served over gRPC for
 * the official `@google-cloud/run` and `@google-cloud/logging` clients.
 */
export { GcpApiError } from "./api-error.js";
export { GcpFaultInjector, GcpFaults } from "./faults.js";
export { defaultFakeLocations, type FakeLocation } from "./locations.js";
export { type FilterableEntry, type LogFilter, parseLogFilter } from "./log-filter.js";
export {
  entriesListPerMinute,
  FakeCloudLogging,
  type FakeLogEntry,
  type LogEntryInput,
  type TailRequestRecord,
  tailSessionsPerProject,
} from "./logging.js";
export {
  type AttemptScript,
  cloudRunJobsPerRegion,
  type ExecutionScript,
  type ExecutionScriptContext,
  FakeCloudRun,
  type RunPageLimits,
} from "./run.js";
export { type FakeGcp, type FakeGcpOptions, startFakeGcp } from "./server.js";
export { FakeCloudRunServices, type RevisionScript, type RevisionScriptContext } from "./services.js";
