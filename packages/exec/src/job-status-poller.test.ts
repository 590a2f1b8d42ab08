import { create } from "@bufbuild/protobuf";
import { JobHandleSchema, NotFoundError } from "@flotilla/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { FakeProviderJobRunner } from "./fixtures/fake-provider-runner.js";
import { JobStatusPoller } from "./job-status-poller.js";
import type { ProviderJobRunner } from "./provider-job-runner.js";
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
});
