/**
 * Execution environments: the SandboxRunner interface, one runner per
 * environment, the exec_env factory and its config schema, and the
 * machinery they share (deterministic names, retries, cleanup, limits).
 */
export { ArgoApiError, ArgoClient, type ArgoConnection, type ArgoWorkflow } from "./argo-client.js";
export { ArgoRunner, type ArgoRunnerOptions } from "./argo-runner.js";
export { ConcurrencyLimitedRunner } from "./concurrency-limit.js";
export { DockerRunner, type DockerRunnerOptions } from "./docker-runner.js";
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
  ExecEnvironments,
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
export { JobStatusPoller } from "./job-status-poller.js";
export { KubernetesRunner, type KubernetesRunnerOptions } from "./kubernetes-runner.js";
export { LocalRunner, type LocalRunnerOptions } from "./local-runner.js";
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
  providerRunnerFor,
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
export { parseSecretRef, type SecretRef, type SecretResolver } from "./secret-ref.js";
