/**
 * The host side of following many jobs (issue 16): a JobService (@flotilla/jobs, the module `flotilla run`
 * and `flotilla serve` use) follows `jobs` running jobs of one provider through a SQLite journal, and the
 * section counts the provider calls it makes for their status per tracked job per poll interval, and the
 * host's heap per tracked job. The provider is an in-process stand-in that answers at once (jobs that run
 * until cancelled, logs that stay open), so what is counted and weighed is the host's own work.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import type { BatchingProviderJobRunner } from "@flotilla/exec";
import { JobService, SqliteJournal } from "@flotilla/jobs";
import {
  type BatchJobStatusRequestSchema,
  BatchJobStatusResponseSchema,
  CancelJobResponseSchema,
  JobHandleSchema,
  type JobLogsResponse,
  JobState,
  JobStatusResponseSchema,
  JobStatusSchema,
  type RunJobRequestSchema,
  RunJobResponseSchema,
} from "@flotilla/protocol";

export interface HostTrackingPlan {
  readonly jobs: number;
  /** Poll intervals to count over. */
  readonly polls: number;
  readonly pollIntervalMs: number;
}

export const fullHostTrackingPlan: HostTrackingPlan = { jobs: 1000, polls: 5, pollIntervalMs: 1000 };
export const quickHostTrackingPlan: HostTrackingPlan = { jobs: 50, polls: 2, pollIntervalMs: 200 };

export interface HostTrackingMeasurement {
  readonly jobs: number;
  readonly polls: number;
  /** BatchJobStatus calls during the counted intervals. */
  readonly batchCalls: number;
  /** JobStatus calls (one job each) during the counted intervals. */
  readonly singleCalls: number;
  /** (batch + single calls) / jobs / polls: 1.0 would be one call per job per interval. */
  readonly callsPerJobPerPoll: number;
  /** Heap used after garbage collection while following every job, minus before, divided by jobs. */
  readonly heapBytesPerJob: number;
}

/** A provider whose jobs run until cancelled and answer every call at once; counts status calls. */
class StandInProvider implements BatchingProviderJobRunner {
  batchCalls = 0;
  singleCalls = 0;
  #next = 0;
  readonly #stop = new AbortController();

  async runJob(request: MessageInitShape<typeof RunJobRequestSchema>) {
    const jobId = `job-${++this.#next}-${request.spec?.idempotencyKey ?? ""}`;
    return create(RunJobResponseSchema, { handle: { provider: "standin", jobId } });
  }
  async jobStatus() {
    this.singleCalls += 1;
    return create(JobStatusResponseSchema, { status: { state: JobState.RUNNING } });
  }
  async batchJobStatus(request: MessageInitShape<typeof BatchJobStatusRequestSchema>) {
    this.batchCalls += 1;
    return create(BatchJobStatusResponseSchema, {
      results: (request.handles ?? []).map((handle) => ({
        handle: create(JobHandleSchema, handle),
        result: { case: "status" as const, value: create(JobStatusSchema, { state: JobState.RUNNING }) },
      })),
    });
  }
  async *jobLogs(_request: unknown, options?: { signal?: AbortSignal }): AsyncIterable<JobLogsResponse> {
    // A running job that prints nothing: the stream stays open until the follower lets go.
    const signals = [this.#stop.signal, ...(options?.signal ? [options.signal] : [])];
    await new Promise<void>((resolve) => {
      for (const signal of signals) signal.addEventListener("abort", () => resolve(), { once: true });
    });
  }
  async cancelJob() {
    return create(CancelJobResponseSchema, {});
  }
  close(): void {
    this.#stop.abort();
  }
}

function collectedHeapUsed(): number {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

export async function benchHostTracking(plan: HostTrackingPlan): Promise<HostTrackingMeasurement> {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-host-tracking-"));
  const provider = new StandInProvider();
  const journal = SqliteJournal.open(join(dir, "journal.db"));
  const service = new JobService({
    journal,
    runners: async () => provider,
    runner: { pollIntervalMs: plan.pollIntervalMs },
  });
  try {
    const before = collectedHeapUsed();
    const tracked = [];
    for (let i = 0; i < plan.jobs; i++) {
      tracked.push(await service.run({ provider: "standin", spec: { name: `bench-${i}`, command: ["true"] } }));
    }
    await Promise.all(tracked.map((job) => job.handle));
    // Let every follower settle into its steady state (log stream open, first status polled) before counting.
    await new Promise((resolve) => setTimeout(resolve, plan.pollIntervalMs * 2));
    const heapBytesPerJob = (collectedHeapUsed() - before) / plan.jobs;
    provider.batchCalls = 0;
    provider.singleCalls = 0;
    await new Promise((resolve) => setTimeout(resolve, plan.pollIntervalMs * plan.polls));
    const { batchCalls, singleCalls } = provider;
    return {
      jobs: plan.jobs,
      polls: plan.polls,
      batchCalls,
      singleCalls,
      callsPerJobPerPoll: (batchCalls + singleCalls) / plan.jobs / plan.polls,
      heapBytesPerJob,
    };
  } finally {
    provider.close();
    await service.close();
    await journal.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
