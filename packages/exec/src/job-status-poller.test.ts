import { create } from "@bufbuild/protobuf";
import {
  BatchJobStatusResponseSchema,
  Code,
  errorForCode,
  JobHandleSchema,
  JobState,
  JobStatusSchema,
  NotFoundError,
  ResourceExhaustedError,
  UnavailableError,
} from "@flotilla/protocol";
import { afterEach, describe, expect, it, vi } from "vitest";
import { FakeProviderJobRunner } from "./fixtures/fake-provider-runner.js";
import { JobStatusPoller } from "./job-status-poller.js";
import type { BatchingProviderJobRunner, ProviderJobRunner } from "./provider-job-runner.js";
import { ProviderRunner } from "./provider-runner.js";

describe("JobStatusPoller", () => {
  const fakes: FakeProviderJobRunner[] = [];
  afterEach(() => {
    for (const fake of fakes.splice(0)) fake.close();
  });

  it("polls many concurrent jobs with one BatchJobStatus call per tick, not one call per job", async () => {
    const fake = new FakeProviderJobRunner("aws");
    fakes.push(fake);
    const runner = new ProviderRunner({ providerName: "aws", runner: fake, pollIntervalMs: 50 });
    const results = await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        runner.run({ command: ["sh", "-c", `sleep 0.4; exit ${i}`], jobIdentity: { jobId: `batch-${i}` } }),
      ),
    );
    expect(results.map((r) => r.exitCode)).toEqual([0, 1, 2, 3, 4]);
    expect(fake.statusCalls).toBe(0);
    expect(Math.max(...fake.batchSizes)).toBe(5);
    // Polling each job separately would have made one call per job per tick: sum(batchSizes) calls.
    const jobPolls = fake.batchSizes.reduce((sum, size) => sum + size, 0);
    expect(fake.batchSizes.length).toBeLessThan(jobPolls);
  });

  it("falls back to JobStatus per job for a runner without BatchJobStatus", async () => {
    const fake = new FakeProviderJobRunner("gcp");
    fakes.push(fake);
    const withoutBatch: ProviderJobRunner = {
      runJob: (request, options) => fake.runJob(request, options),
      jobStatus: (request, options) => fake.jobStatus(request, options),
      jobLogs: (request, options) => fake.jobLogs(request, options),
      cancelJob: (request, options) => fake.cancelJob(request, options),
    };
    const result = await new ProviderRunner({ providerName: "gcp", runner: withoutBatch, pollIntervalMs: 30 }).run({
      command: ["sh", "-c", "exit 7"],
      jobIdentity: { jobId: "single" },
    });
    expect(result.exitCode).toBe(7);
    expect(fake.statusCalls).toBeGreaterThan(0);
    expect(fake.batchSizes).toEqual([]);
  });

  it("rejects a waiter whose job the provider reports NOT_FOUND in the batch", async () => {
    const fake = new FakeProviderJobRunner("aws");
    fakes.push(fake);
    const poller = new JobStatusPoller(fake, 20);
    const missing = create(JobHandleSchema, { provider: "aws", jobId: "job-404" });
    await expect(poller.waitForTerminal(missing, new AbortController().signal)).rejects.toBeInstanceOf(NotFoundError);
    expect(poller.tracked).toBe(0);
  });

  it("stops tracking a job whose waiter is aborted", async () => {
    const fake = new FakeProviderJobRunner("aws");
    fakes.push(fake);
    const { handle } = await fake.runJob({ spec: { command: ["sleep", "30"] } });
    const poller = new JobStatusPoller(fake, 20);
    const controller = new AbortController();
    const waiting = poller.waitForTerminal(handle ?? create(JobHandleSchema), controller.signal);
    expect(poller.tracked).toBe(1);
    controller.abort(new Error("cancelled"));
    await expect(waiting).rejects.toThrow("cancelled");
    expect(poller.tracked).toBe(0);
  });

  it("polls a job whose log has ended at once, alone, instead of waiting for the next tick", async () => {
    const fake = new FakeProviderJobRunner("aws");
    fakes.push(fake);
    // A tick an hour away: only the log's end can bring the job's end to light within the test.
    const runner = new ProviderRunner({ providerName: "aws", runner: fake, pollIntervalMs: 3_600_000 });
    const longJob = runner.run(
      { command: ["sleep", "30"], jobIdentity: { jobId: "long" } },
      { signal: AbortSignal.timeout(60_000) },
    );
    longJob.catch(() => {});
    const result = await runner.run({ command: ["sh", "-c", "echo done; exit 3"], jobIdentity: { jobId: "quick" } });
    expect(result.exitCode).toBe(3);
    // One call for the job whose log ended, without the other job still running.
    expect(fake.batchSizes).toEqual([1]);
  }, 30_000);

  it("leaves no tick pending once nothing is waited on, so it never holds its process open", async () => {
    vi.useFakeTimers();
    try {
      const never: ProviderJobRunner = {
        runJob: () => Promise.reject(new Error("not called")),
        jobStatus: () => Promise.reject(new Error("not called")),
        jobLogs: () => {
          throw new Error("not called");
        },
        cancelJob: () => Promise.reject(new Error("not called")),
      };
      const poller = new JobStatusPoller(never, 60_000);
      const controller = new AbortController();
      const waiting = poller.waitForTerminal(create(JobHandleSchema, { provider: "x", jobId: "j" }), controller.signal);
      expect(vi.getTimerCount()).toBe(1);
      controller.abort(new Error("stopped waiting"));
      await expect(waiting).rejects.toThrow("stopped waiting");
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it("polls a throttling provider less often, doubling the interval per throttled tick, and returns to it", async () => {
    vi.useFakeTimers();
    try {
      const answers: (Error | "running")[] = [
        new ResourceExhaustedError("rate exceeded"),
        new UnavailableError("try later"),
        new ResourceExhaustedError("rate exceeded"),
        "running",
        errorForCode(Code.Aborted, "conflict"),
      ];
      const callTimes: number[] = [];
      const throttling: BatchingProviderJobRunner = {
        runJob: () => Promise.reject(new Error("not called")),
        jobStatus: () => Promise.reject(new Error("not called")),
        jobLogs: () => {
          throw new Error("not called");
        },
        cancelJob: () => Promise.reject(new Error("not called")),
        batchJobStatus: async (request) => {
          callTimes.push(Date.now());
          const answer = answers.shift() ?? "running";
          if (answer instanceof Error) throw answer;
          return create(BatchJobStatusResponseSchema, {
            results: (request.handles ?? []).map((handle) => ({
              handle: create(JobHandleSchema, handle),
              result: { case: "status" as const, value: create(JobStatusSchema, { state: JobState.RUNNING }) },
            })),
          });
        },
      };
      const poller = new JobStatusPoller(throttling, 100);
      const controller = new AbortController();
      const waiting = poller.waitForTerminal(create(JobHandleSchema, { provider: "x", jobId: "j" }), controller.signal);
      waiting.catch(() => {});
      await vi.advanceTimersByTimeAsync(100 + 200 + 400 + 800 + 100 + 100);
      const gaps = callTimes.slice(1).map((time, i) => time - (callTimes[i] as number));
      // Throttled, throttled, throttled: 200, 400, 800; then a tick gets through and the next comes after
      // 100 again; a conflict (ABORTED) is not throttling and stretches nothing.
      expect(gaps).toEqual([200, 400, 800, 100, 100]);
      expect(poller.currentIntervalMs).toBe(100);
      controller.abort(new Error("done"));
    } finally {
      vi.useRealTimers();
    }
  });
});
