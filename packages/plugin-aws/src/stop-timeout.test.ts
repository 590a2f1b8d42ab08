import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  CancelJobRequestSchema,
  type JobHandleSchema,
  JobState,
  type JobStatus,
  JobStatusRequestSchema,
  RunJobRequestSchema,
} from "@flotilla/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AwsHarness, startAwsHarness } from "./fixtures/harness.js";

// StopTask is `docker stop`: SIGTERM, then SIGKILL after the stop timeout (30 s unless the container
// definition says otherwise). Until the container is gone the task is STOPPING, and the job is not over.
let h: AwsHarness;
beforeEach(async () => {
  h = await startAwsHarness();
});
afterEach(async () => {
  await h.close();
});

type Handle = MessageInitShape<typeof JobHandleSchema> | undefined;
/**
 * The job's status as of the fake's clock now: the plugin answers from its shared poller's cache while the
 * cached answer is younger than the poll interval, so let that window pass first.
 */
async function statusOf(handle: Handle): Promise<JobStatus> {
  await new Promise((resolve) => setTimeout(resolve, Number(h.config.statusPollIntervalMs) + 5));
  return (await h.runner.jobStatus(create(JobStatusRequestSchema, { handle }), h.context)).status as JobStatus;
}

async function runningJob(script: { exitAfterSigtermMs: number | null; sigtermExitCode?: number }) {
  h.fake.ecs.setTaskScript(() => ({ runMs: Number.POSITIVE_INFINITY, ...script }));
  const { handle } = await h.runner.runJob(
    create(RunJobRequestSchema, { spec: { name: "server", image: "ghcr.io/acme/server:1" } }),
    h.context,
  );
  h.fake.clock.advance(1_000);
  expect((await statusOf(handle)).state).toBe(JobState.RUNNING);
  await h.runner.cancelJob(create(CancelJobRequestSchema, { handle, reason: "deploy rolled back" }), h.context);
  return handle;
}

describe("cancelling a running task", () => {
  it("keeps the job running while a container that ignores SIGTERM winds down, then reports the SIGKILL", async () => {
    const handle = await runningJob({ exitAfterSigtermMs: null });
    // The fake's clock also moves with real time, so the steps leave a second to spare.
    h.fake.clock.advance(28_000);
    const stopping = await statusOf(handle);
    expect(stopping.state).toBe(JobState.RUNNING);
    expect(stopping.exitCode).toBeUndefined();
    h.fake.clock.advance(2_000);
    const done = await statusOf(handle);
    expect(done).toMatchObject({
      state: JobState.CANCELLED,
      exitCode: 137,
      reason: "UserInitiated: deploy rolled back",
    });
  });

  it("reports the exit code of a container that ends on SIGTERM within the stop timeout", async () => {
    // The fake's clock also moves with real time, so the steps leave seconds to spare.
    const handle = await runningJob({ exitAfterSigtermMs: 20_000, sigtermExitCode: 0 });
    h.fake.clock.advance(10_000);
    expect((await statusOf(handle)).state).toBe(JobState.RUNNING);
    h.fake.clock.advance(10_000);
    expect(await statusOf(handle)).toMatchObject({ state: JobState.CANCELLED, exitCode: 0 });
  });
});
