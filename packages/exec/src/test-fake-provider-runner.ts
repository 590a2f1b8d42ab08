/**
 * Test helper: an in-process provider runner implementing
 * {@link ProviderJobRunner} the way a plugin's IaCProviderRunner behaves:
 * jobs run as local processes (through the fakes' ProcessContainer),
 * `secret://` env is resolved here, on the provider's side, from
 * {@link FakeProviderJobRunner.secrets}; the idempotency key deduplicates
 * RunJob; JobLogs follows; CancelJob kills. It records every request it
 * receives so tests can check what the host sent.
 */
import { create, type MessageInitShape, toJsonString } from "@bufbuild/protobuf";
import { ProcessContainer } from "@flotilla/fakes";
import {
  type BatchJobStatusRequestSchema,
  type BatchJobStatusResponse,
  BatchJobStatusResponseSchema,
  type CancelJobRequestSchema,
  type CancelJobResponse,
  CancelJobResponseSchema,
  JobHandleSchema,
  type JobLogsRequestSchema,
  type JobLogsResponse,
  JobLogsResponseSchema,
  JobState,
  type JobStatus,
  type JobStatusRequestSchema,
  type JobStatusResponse,
  JobStatusResponseSchema,
  JobStatusSchema,
  LogStream,
  NotFoundError,
  RunJobRequestSchema,
  type RunJobResponse,
  RunJobResponseSchema,
  UnavailableError,
} from "@flotilla/protocol";
import type { BatchingProviderJobRunner, ProviderCallOptions } from "./provider-job-runner.js";

interface FakeJob {
  readonly id: string;
  readonly container: ProcessContainer;
  cancelled: boolean;
}

/** An in-process IaCProviderRunner for tests. */
export class FakeProviderJobRunner implements BatchingProviderJobRunner {
  /** Every request received, as protobuf JSON, in order. */
  readonly requests: string[] = [];
  /** Secrets by reference (`secret://name/key`), resolved provider-side. */
  readonly secrets = new Map<string, string>();
  /** How many jobs were ever started (a retried RunJob must not raise it). */
  jobsStarted = 0;
  /** RunJob calls whose response is "lost": the job starts, the caller gets Unavailable. */
  loseRunJobResponses = 0;
  /** JobLogs fails at once while true. */
  failLogs = false;
  /** JobLogs keeps its stream open after the job ended (until the caller aborts) while true. */
  logsNeverEnd = false;
  /** The next JobLogs stream breaks (Unavailable) once it has sent this many lines in total. */
  breakLogStreamAfter: number | undefined;
  /** Cursors the JobLogs requests carried, in order ("" for none). */
  readonly logCursors: string[] = [];
  /** JobStatus calls received. */
  statusCalls = 0;
  /** Sizes of the BatchJobStatus calls received, in order. */
  readonly batchSizes: number[] = [];
  readonly #jobs = new Map<string, FakeJob>();
  readonly #byKey = new Map<string, string>();
  readonly #provider: string;

  constructor(provider = "fake") {
    this.#provider = provider;
  }

  async runJob(
    request: MessageInitShape<typeof RunJobRequestSchema>,
    _options?: ProviderCallOptions,
  ): Promise<RunJobResponse> {
    const message = create(RunJobRequestSchema, request);
    this.requests.push(toJsonString(RunJobRequestSchema, message));
    const spec = message.spec;
    if (!spec) throw new Error("fake provider: RunJob without spec");
    const existing = spec.idempotencyKey ? this.#byKey.get(spec.idempotencyKey) : undefined;
    if (existing)
      return create(RunJobResponseSchema, {
        handle: { provider: this.#provider, jobId: existing },
        deduplicated: true,
      });
    const env: Record<string, string> = { ...spec.env };
    for (const [name, reference] of Object.entries(spec.secretEnv)) {
      const value = this.secrets.get(reference);
      if (value === undefined) throw new NotFoundError(`fake provider: secret ${reference} not found`);
      env[name] = value;
    }
    this.jobsStarted += 1;
    const id = `job-${this.jobsStarted}`;
    const container = new ProcessContainer({
      command: [...spec.command, ...spec.args],
      env,
      ...(spec.workingDir ? { workingDir: spec.workingDir } : {}),
    });
    this.#jobs.set(id, { id, container, cancelled: false });
    if (spec.idempotencyKey) this.#byKey.set(spec.idempotencyKey, id);
    if (this.loseRunJobResponses > 0) {
      this.loseRunJobResponses -= 1;
      throw new UnavailableError("fake provider: connection lost before the RunJob response arrived");
    }
    return create(RunJobResponseSchema, { handle: { provider: this.#provider, jobId: id }, deduplicated: false });
  }

  async batchJobStatus(
    request: MessageInitShape<typeof BatchJobStatusRequestSchema>,
    _options?: ProviderCallOptions,
  ): Promise<BatchJobStatusResponse> {
    const handles = request.handles ?? [];
    this.batchSizes.push(handles.length);
    return create(BatchJobStatusResponseSchema, {
      results: handles.map((handle) => {
        const job = handle.jobId ? this.#jobs.get(handle.jobId) : undefined;
        return job
          ? { handle, result: { case: "status" as const, value: statusOf(this.#provider, job) } }
          : {
              handle,
              result: { case: "error" as const, value: { code: "NOT_FOUND", message: `no job ${handle.jobId}` } },
            };
      }),
    });
  }

  async jobStatus(
    request: MessageInitShape<typeof JobStatusRequestSchema>,
    _options?: ProviderCallOptions,
  ): Promise<JobStatusResponse> {
    this.statusCalls += 1;
    const job = this.#job(request.handle?.jobId);
    return create(JobStatusResponseSchema, { status: statusOf(this.#provider, job) });
  }

  async *jobLogs(
    request: MessageInitShape<typeof JobLogsRequestSchema>,
    options?: ProviderCallOptions,
  ): AsyncIterable<JobLogsResponse> {
    if (this.failLogs) throw new UnavailableError("fake provider: log backend unreachable (simulated)");
    this.logCursors.push(request.cursor ?? "");
    const job = this.#job(request.handle?.jobId);
    // A cursor is the number of lines before the next one to send.
    let next = request.cursor ? Number(request.cursor) : 0;
    for (;;) {
      const exited = job.container.state.kind === "terminated";
      const complete = job.container.log
        .slice(0, job.container.log.lastIndexOf("\n") + 1)
        .split("\n")
        .slice(0, -1);
      const lines = complete
        .slice(next)
        .map((text, i) => ({ stream: LogStream.STDOUT, text, cursor: String(next + i + 1) }));
      if (this.breakLogStreamAfter !== undefined && next + lines.length > this.breakLogStreamAfter) {
        const upTo = this.breakLogStreamAfter - next;
        this.breakLogStreamAfter = undefined;
        if (upTo > 0) yield create(JobLogsResponseSchema, { lines: lines.slice(0, upTo) });
        throw new UnavailableError("fake provider: log stream broke (simulated)");
      }
      next += lines.length;
      if (lines.length > 0) yield create(JobLogsResponseSchema, { lines });
      if ((exited && !this.logsNeverEnd) || !request.follow) return;
      if (options?.signal?.aborted) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async cancelJob(
    request: MessageInitShape<typeof CancelJobRequestSchema>,
    _options?: ProviderCallOptions,
  ): Promise<CancelJobResponse> {
    const job = this.#job(request.handle?.jobId);
    job.cancelled = true;
    job.container.kill();
    return create(CancelJobResponseSchema, { status: statusOf(this.#provider, job) });
  }

  /** Ids of the jobs whose process still runs, whatever the caller was told. */
  runningJobs(): string[] {
    return [...this.#jobs.values()].filter((job) => job.container.state.kind === "running").map((job) => job.id);
  }

  /** Kills every job still running. */
  close(): void {
    for (const job of this.#jobs.values()) job.container.kill();
  }

  #job(id: string | undefined): FakeJob {
    const job = id ? this.#jobs.get(id) : undefined;
    if (!job) throw new NotFoundError(`fake provider: no job ${id}`);
    return job;
  }
}

function statusOf(provider: string, job: FakeJob): JobStatus {
  const state = job.container.state;
  const handle = create(JobHandleSchema, { provider, jobId: job.id });
  if (state.kind === "running") return create(JobStatusSchema, { handle, state: JobState.RUNNING });
  if (job.cancelled)
    return create(JobStatusSchema, { handle, state: JobState.CANCELLED, reason: "cancelled by CancelJob" });
  return create(JobStatusSchema, {
    handle,
    state: state.exitCode === 0 ? JobState.SUCCEEDED : JobState.FAILED,
    exitCode: state.exitCode,
  });
}
