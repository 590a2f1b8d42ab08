/**
 * What the exec package needs of a provider plugin: the calls of its
 * IaCProviderRunnerService client that the provider runner and the status
 * poller make, and where such clients come from. Both import this file and
 * neither imports the other for it. providerclient's `runner()` returns a
 * client with exactly these methods; plugin-host-directory.ts checks that at
 * compile time.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import type {
  BatchJobStatusRequestSchema,
  BatchJobStatusResponse,
  CancelJobRequestSchema,
  CancelJobResponse,
  JobLogsRequestSchema,
  JobLogsResponse,
  JobStatusRequestSchema,
  JobStatusResponse,
  RunJobRequestSchema,
  RunJobResponse,
} from "@flotilla/protocol";

/** Options every provider call accepts; matches providerclient's CallOptions. */
export interface ProviderCallOptions {
  /** Aborts the call (a gRPC cancel reaches the plugin's handler). */
  readonly signal?: AbortSignal;
}

/** The part of a provider's IaCProviderRunnerService client that the provider runner uses. */
export interface ProviderJobRunner {
  /** Starts a job; a retry with the same idempotency key returns the first job's handle. */
  runJob(request: MessageInitShape<typeof RunJobRequestSchema>, options?: ProviderCallOptions): Promise<RunJobResponse>;
  /** The status of one job. */
  jobStatus(
    request: MessageInitShape<typeof JobStatusRequestSchema>,
    options?: ProviderCallOptions,
  ): Promise<JobStatusResponse>;
  /** The job's log lines, optionally following it and resuming from a cursor. */
  jobLogs(
    request: MessageInitShape<typeof JobLogsRequestSchema>,
    options?: ProviderCallOptions,
  ): AsyncIterable<JobLogsResponse>;
  /** Asks the provider to stop the job. */
  cancelJob(
    request: MessageInitShape<typeof CancelJobRequestSchema>,
    options?: ProviderCallOptions,
  ): Promise<CancelJobResponse>;
}

/** A provider runner that can also answer for many jobs at once. */
export interface BatchingProviderJobRunner extends ProviderJobRunner {
  /** The statuses of many jobs in one call. */
  batchJobStatus(
    request: MessageInitShape<typeof BatchJobStatusRequestSchema>,
    options?: ProviderCallOptions,
  ): Promise<BatchJobStatusResponse>;
}

/** Where provider runners come from: the host's loaded providers. */
export interface ProviderDirectory {
  /** Names of every configured provider. */
  providerNames(): readonly string[];
  /** The provider's runner client, or undefined when it does not advertise IaCProviderRunner. */
  runnerOf(providerName: string): ProviderJobRunner | undefined;
}
