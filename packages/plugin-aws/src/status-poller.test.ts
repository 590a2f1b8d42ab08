import { create } from "@bufbuild/protobuf";
import { AwsFaults } from "@flotilla/fakes";
import {
  BatchJobStatusRequestSchema,
  type JobHandle,
  JobHandleSchema,
  JobState,
  JobStatusRequestSchema,
  RunJobRequestSchema,
  UnavailableError,
} from "@flotilla/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AwsHarness, startAwsHarness } from "./fixtures/harness.js";

let h: AwsHarness;
beforeEach(async () => {
  // A long interval: the test drives the polls itself.
  h = await startAwsHarness({ statusPollIntervalMs: 600_000 });
  h.fake.ecs.setTaskScript(() => ({ runMs: Number.POSITIVE_INFINITY }));
});
afterEach(async () => {
  await h.close();
});

async function runJobs(count: number, cluster?: string): Promise<JobHandle[]> {
  const handles: JobHandle[] = [];
  for (let i = 0; i < count; i += 25) {
    const batch = Array.from({ length: Math.min(25, count - i) }, () =>
      h.runner.runJob(
        create(RunJobRequestSchema, {
          spec: {
            name: "poll",
            image: "busybox",
            ...(cluster ? { target: { kind: { case: "awsEcs", value: { cluster } } } } : {}),
          },
        }),
        h.context,
      ),
    );
    for (const out of await Promise.all(batch)) handles.push(create(JobHandleSchema, out.handle));
  }
  return handles;
}

describe("StatusPoller", () => {
  it("polls N tracked jobs with ceil(N/100) DescribeTasks calls per poll", async () => {
    await runJobs(250);
    const poller = h.plugin.runtime().poller;
    expect(poller.trackedCount).toBe(250);
    h.fake.calls.reset();
    await poller.pollOnce();
    expect(h.fake.calls.count("DescribeTasks")).toBe(3);
    await poller.pollOnce();
    expect(h.fake.calls.count("DescribeTasks")).toBe(6);
  });

  it("batches concurrent JobStatus calls from many callers into shared DescribeTasks calls, per cluster", async () => {
    const handles = [...(await runJobs(150)), ...(await runJobs(30, "jobs"))];
    h.plugin.runtime().poller.stop();
    h.fake.calls.reset();
    await Promise.all(
      handles.map((handle) => h.runner.jobStatus(create(JobStatusRequestSchema, { handle }), h.context)),
    );
    // 150 in "default" → 2 calls, 30 in "jobs" → 1 call.
    expect(h.fake.calls.count("DescribeTasks")).toBe(3);
    // Within the freshness window the answers come from the cache.
    await Promise.all(
      handles.map((handle) => h.runner.jobStatus(create(JobStatusRequestSchema, { handle }), h.context)),
    );
    expect(h.fake.calls.count("DescribeTasks")).toBe(3);
  });

  it("drops finished jobs from the poll set and keeps serving their final status from the cache", async () => {
    h.fake.ecs.setTaskScript(() => ({ runMs: 10 }));
    const handles = await runJobs(5);
    const poller = h.plugin.runtime().poller;
    h.fake.clock.advance(1000);
    await poller.pollOnce();
    expect(poller.trackedCount).toBe(0);
    h.fake.calls.reset();
    await h.runner.batchJobStatus(create(BatchJobStatusRequestSchema, { handles }), h.context);
    expect(h.fake.calls.count("DescribeTasks")).toBe(0);
  });

  it("reports a failed DescribeTasks batch as a per-job error, translated", async () => {
    const handles = await runJobs(2);
    h.plugin.runtime().poller.stop();
    // Past PROVISIONING and PENDING: a fresh DescribeTasks answer says RUNNING.
    h.fake.clock.advance(1000);
    h.fake.faults.inject("DescribeTasks", AwsFaults.serviceUnavailable, 2);
    const out = await h.runner.batchJobStatus(create(BatchJobStatusRequestSchema, { handles }), h.context);
    expect(out.results?.map((r) => r.result?.case)).toEqual(["error", "error"]);
    expect(out.results?.[0]?.result).toMatchObject({ value: { code: "UNAVAILABLE" } });
    // The failure was not cached: the next call asks ECS again and gets the task.
    await expect(
      h.runner.jobStatus(create(JobStatusRequestSchema, { handle: handles[0] }), h.context),
    ).resolves.toMatchObject({ status: { handle: { jobId: handles[0]?.jobId }, state: JobState.RUNNING } });
    h.fake.faults.inject("DescribeTasks", AwsFaults.serviceUnavailable, 2);
    h.plugin.runtime().poller.invalidate(handles[1]?.jobId as string);
    await expect(
      h.runner.jobStatus(create(JobStatusRequestSchema, { handle: handles[1] }), h.context),
    ).rejects.toBeInstanceOf(UnavailableError);
  });
});

describe("StatusPoller priming", () => {
  it("answers JobStatus right after RunJob from RunTask's own answer, even while DescribeTasks does not see the task yet", async () => {
    const [handle] = await runJobs(1);
    h.fake.calls.reset();
    // What eventual consistency looks like: DescribeTasks fails to see it for a moment.
    h.fake.faults.inject("DescribeTasks", { type: "ServerException", status: 500, message: "not yet" }, 10);
    const out = await h.runner.jobStatus(create(JobStatusRequestSchema, { handle }), h.context);
    // RunTask answered with the task PROVISIONING.
    expect(out.status).toMatchObject({ handle: { jobId: handle?.jobId }, state: JobState.PENDING });
    expect(h.fake.calls.count("DescribeTasks")).toBe(0);
  });

  it("asks again for a task DescribeTasks does not see yet right after RunTask, instead of reporting it not found", async () => {
    // ECS's eventual consistency, simulated by the fake: DescribeTasks answers MISSING for 30 s after RunTask.
    h.fake.ecs.setDescribeTasksLag(30_000);
    h.fake.ecs.setTaskScript(() => ({ provisioningMs: 0, pendingMs: 0, runMs: Number.POSITIVE_INFINITY }));
    const [primed, unprimed] = await runJobs(2);
    const poller = h.plugin.runtime().poller;
    // One job keeps RunTask's answer; the other lost it, as after a ConflictException retry.
    poller.invalidate(unprimed?.jobId as string);
    h.fake.calls.reset();
    await poller.pollOnce();
    expect(h.fake.calls.count("DescribeTasks")).toBe(1);
    expect(poller.trackedCount).toBe(2);
    const statuses = await h.runner.batchJobStatus(
      create(BatchJobStatusRequestSchema, { handles: [primed as JobHandle, unprimed as JobHandle] }),
      h.context,
    );
    // RunTask's own answer (the task starts at once in this script), and "provisioning" for the one without it.
    expect(statuses.results?.map((r) => r.result)).toMatchObject([
      { case: "status", value: { state: JobState.RUNNING } },
      { case: "status", value: { state: JobState.PENDING } },
    ]);
    // Each lookup asks ECS again; once the task is visible its real status shows.
    h.fake.clock.advance(30_000);
    await poller.pollOnce();
    await expect(
      h.runner.jobStatus(create(JobStatusRequestSchema, { handle: unprimed }), h.context),
    ).resolves.toMatchObject({ status: { state: JobState.RUNNING } });
  });

  it("reports a task MISSING past the grace period after RunTask as not found", async () => {
    const { StatusPoller } = await import("./status-poller.js");
    const rt = h.plugin.runtime();
    const poller = new StatusPoller({
      intervalMs: 600_000,
      missingGraceMs: 1000,
      describe: async (_region, cluster, tasks) => {
        const { DescribeTasksCommand } = await import("@aws-sdk/client-ecs");
        const out = await (await rt.clients.ecs("eu-west-1")).send(new DescribeTasksCommand({ cluster, tasks }));
        return { tasks: out.tasks ?? [], failures: out.failures ?? [] };
      },
    });
    h.fake.ecs.setDescribeTasksLag(Number.POSITIVE_INFINITY);
    const [handle] = await runJobs(1);
    const { parseTaskArn } = await import("./task-arn.js");
    const ref = parseTaskArn(handle?.jobId as string, "default") as NonNullable<ReturnType<typeof parseTaskArn>>;
    try {
      poller.started(ref, Date.now());
      expect((await poller.lookup([ref], -1))[0]?.kind).toBe("found");
      poller.started(ref, Date.now() - 1001);
      expect((await poller.lookup([ref], -1))[0]?.kind).toBe("missing");
    } finally {
      poller.stop();
    }
  });
});
