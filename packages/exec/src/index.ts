/**
 * @flotilla/exec — execution environments: the SandboxRunner interface, the
 * exec_env factory and its config schema, the runners that need no client
 * package (local, provider-ephemeral, the inline HTTP executor), and the
 * machinery they share (deterministic names, retries, cleanup, limits).
 *
 * The container runners are entry points of their own, so that importing
 * this one loads neither the Kubernetes client nor dockerode:
 * `@flotilla/exec/kubernetes`, `@flotilla/exec/docker`, `@flotilla/exec/argo`.
 * The factory imports them when a configuration has an environment of their
 * kind.
 */
export { ConcurrencyLimitedRunner } from "./concurrency-limit.js";
export {
  EXEC_ENVIRONMENT_KINDS,
  ExecConfigError,
  type ExecEnvironmentKind,
  type ExecEnvironmentsConfig,
  execEnvironmentSchemas,
  RESERVED_ENVIRONMENT_NAMES,
  validateExecEnvironments,
} from "./exec-config-schema.js";
export {
  createExecEnvironments,
  type ExecEnvironments,
  type ExecFactoryDependencies,
  PROVIDER_EPHEMERAL,
} from "./factory.js";
export {
  type CollectableEnvironment,
  type CollectionReason,
  type CollectionRecord,
  GarbageCollector,
  type GarbageCollectorOptions,
  type ManagedResource,
} from "./garbage-collector.js";
export {
  HttpExecutor,
  type HttpExecutorOptions,
  HttpStatusError,
  type HttpTaskRequest,
  type HttpTaskResult,
  HttpTaskStoppedError,
  ResponseTooLargeError,
} from "./http-executor.js";
export {
  FLOTILLA_LABELS,
  flotillaLabels,
  JOB_ID_ANNOTATION,
  labelValue,
  MANAGED_SELECTOR,
  runKey,
  runName,
} from "./job-names.js";
export {
  exitCodeForStatus,
  FAILED_EXIT_CODE,
  isTerminalJobState,
  jobOutcome,
  jobStateName,
  TERMINAL_JOB_STATES,
} from "./job-outcome.js";
export { JobStatusPoller } from "./job-status-poller.js";
export { LocalRunner, type LocalRunnerOptions } from "./local-runner.js";
export { LogLineJoiner, MAX_JOINED_LINE_BYTES } from "./log-line-joiner.js";
export { providerDirectoryOf } from "./plugin-host-directory.js";
export type {
  BatchingProviderJobRunner,
  ProviderCallOptions,
  ProviderDirectory,
  ProviderJobRunner,
} from "./provider-job-runner.js";
export {
  ProviderRunner,
  type ProviderRunnerOptions,
  type ProviderRunOptions,
  type ProviderRunRequest,
  type ProviderRunResult,
  type ProviderRunResume,
  providerRunnerFor,
  RunDetachedError,
} from "./provider-runner.js";
export { DEFAULT_RETRY_POLICY, isRetriableStatus, type RetryPolicy } from "./retry.js";
export {
  CANCELLED_EXIT_CODE,
  type JobIdentity,
  type LogLine,
  type LogStream,
  type RunReason,
  type SandboxRunner,
  type SandboxRunOptions,
  type SandboxRunRequest,
  type SandboxRunResult,
  TIMEOUT_EXIT_CODE,
} from "./sandbox-runner.js";
export { type KubernetesSecretKeyRef, kubernetesSecretKeyRef, type SecretResolver } from "./secret-ref.js";
