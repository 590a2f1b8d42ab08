import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { type ExecutionScriptContext, GcpFaults } from "@flotilla/fakes";
import { configureDirectly } from "@flotilla/plugin-sdk/testing";
import {
  BatchJobStatusRequestSchema,
  CancelJobRequestSchema,
  InvalidArgumentError,
  type JobHandle,
  JobHandleSchema,
  JobState,
  type JobStatus,
  JobStatusRequestSchema,
  ResourceExhaustedError,
  RunJobRequestSchema,
} from "@flotilla/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type GcpHarness, startGcpHarness } from "./fixtures/harness.js";
import { jobIdFor } from "./job-spec.js";

let h: GcpHarness;
beforeEach(async () => {
  h = await startGcpHarness();
});
afterEach(async () => {
  await h.close();
});

const spec = (over: Record<string, unknown> = {}) =>
  create(RunJobRequestSchema, {
    spec: {
      name: "db-migrate",
      image: "europe-docker.pkg.dev/acme/jobs/migrate:1.2",
      command: ["/bin/migrate"],
      args: ["--up"],
      env: { STAGE: "prod" },
      secretEnv: { DB_PASSWORD: "secret://gcp-sm/db-password", API_KEY: "secret://gcp-sm/api-key/3" },
      labels: { team: "data" },
      resources: { cpuMillicores: 1000, memoryMib: 512 },
      ...over,
    },
  });

type Handle = MessageInitShape<typeof JobHandleSchema> | undefined;

async function statusOf(handle: Handle): Promise<JobStatus> {
  return (await h.runner.jobStatus(create(JobStatusRequestSchema, { handle }), h.context)).status as JobStatus;
}

const terminal = (s: JobStatus) => [JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED].includes(s.state);

async function waitFor(handle: Handle, done: (s: JobStatus) => boolean = terminal): Promise<JobStatus> {
  for (let i = 0; i < 400; i++) {
    const status = await statusOf(handle);
    if (done(status)) return status;
    await new Promise((r) => setTimeout(r, 15));
  }
  throw new Error("the job did not reach the expected state");
}

async function getJob(jobId: string) {
  const [job] = await (await h.plugin.runtime().clients.jobs()).getJob({
    name: `projects/flotilla-test/locations/us-central1/jobs/${jobId}`,
  });
  return job;
}

describe("RunJob", () => {
  it("creates one job with its execution, named from the idempotency key, with the spec's container", async () => {
    let seen: ExecutionScriptContext | undefined;
    h.fake.run.setExecutionScript((context) => {
      seen = context;
      return { runMs: 10_000 };
    });
    const out = await h.runner.runJob(
      spec({ idempotencyKey: "Deploy #42", timeout: durationFromMs(90_500) }),
      h.context,
    );
    const jobId = jobIdFor("Deploy #42");
    expect(jobId).toMatch(/^flotilla-deploy-42-[0-9a-f]{16}$/);
    expect(out.deduplicated).toBe(false);
    expect(out.handle).toEqual(
      expect.objectContaining({
        provider: "gcp",
        jobId: `projects/flotilla-test/locations/us-central1/jobs/${jobId}/executions/${jobId}-run`,
      }),
    );
    expect(h.fake.run.jobNames()).toEqual([`projects/flotilla-test/locations/us-central1/jobs/${jobId}`]);
    expect(h.fake.calls.snapshot()).toMatchObject({ CreateJob: 1 });
    expect(h.fake.calls.snapshot().RunJob).toBeUndefined();
    expect(seen).toMatchObject({
      image: "europe-docker.pkg.dev/acme/jobs/migrate:1.2",
      command: ["/bin/migrate"],
      args: ["--up"],
      env: { STAGE: "prod" },
      secretEnv: { DB_PASSWORD: "db-password:latest", API_KEY: "api-key:3" },
      labels: { "managed-by": "flotilla", team: "data" },
      taskCount: 1,
      maxRetries: 0,
    });
    const job = await getJob(jobId);
    const task = job?.template?.template;
    expect(task?.containers?.[0]?.resources?.limits).toEqual({ cpu: "1", memory: "512Mi" });
    expect(Number(task?.timeout?.seconds)).toBe(91);
  });

  it("a repeat with the same idempotency key adopts the first job: exactly one execution", async () => {
    h.fake.run.setExecutionScript({ runMs: 10_000 });
    const first = await h.runner.runJob(spec({ idempotencyKey: "run-1" }), h.context);
    const second = await h.runner.runJob(spec({ idempotencyKey: "run-1", args: ["--down"] }), h.context);
    expect(second.deduplicated).toBe(true);
    expect(second.handle?.jobId).toBe(first.handle?.jobId);
    const job = await getJob(jobIdFor("run-1"));
    expect(job?.executionCount).toBe(1);
    expect(job?.template?.template?.containers?.[0]?.args).toEqual(["--up"]);
  });

  it("puts the target's service account and VPC connector on the task", async () => {
    h.fake.run.setExecutionScript({ runMs: 10_000 });
    await h.runner.runJob(
      spec({
        idempotencyKey: "vpc",
        target: {
          kind: {
            case: "gcpCloudRun",
            value: { serviceAccount: "jobs@flotilla-test.iam.gserviceaccount.com", vpcConnector: "jobs-connector" },
          },
        },
      }),
      h.context,
    );
    const task = (await getJob(jobIdFor("vpc")))?.template?.template;
    expect(task?.serviceAccount).toBe("jobs@flotilla-test.iam.gserviceaccount.com");
    expect(task?.vpcAccess?.connector).toBe("projects/flotilla-test/locations/us-central1/connectors/jobs-connector");
  });

  it("reports Cloud Run's per-region job limit as ResourceExhausted", async () => {
    h.fake.run.setExecutionScript({ runMs: 10_000 });
    h.fake.run.setJobLimit(1);
    await h.runner.runJob(spec({ idempotencyKey: "a" }), h.context);
    const error = await Promise.resolve(h.runner.runJob(spec({ idempotencyKey: "b" }), h.context)).catch(
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(ResourceExhaustedError);
    expect((error as Error).message).toMatch(
      /^Cloud Run CreateJob failed: .*maximum number of jobs per project and region/,
    );
  });

  it("at the job limit, deletes finished Flotilla jobs left behind and tries once more, leaving other jobs alone", async () => {
    h.fake.run.setExecutionScript({ runMs: 10 });
    const jobs = await h.plugin.runtime().clients.jobs();
    const parent = "projects/flotilla-test/locations/us-central1";
    const template = { template: { containers: [{ image: "busybox" }] } };
    for (const [jobId, labels] of [
      ["left-behind", { "managed-by": "flotilla" }],
      ["not-ours", { team: "web" }],
    ] as const)
      await jobs.createJob({ parent, jobId, job: { labels, template, startExecutionToken: "x" } });
    h.fake.clock.advance(1000);
    h.fake.run.setJobLimit(2);
    const out = await h.runner.runJob(spec({ idempotencyKey: "after-sweep" }), h.context);
    expect(out.deduplicated).toBe(false);
    expect(h.fake.run.jobNames().sort()).toEqual(
      [`${parent}/jobs/${jobIdFor("after-sweep")}`, `${parent}/jobs/not-ours`].sort(),
    );
  });

  it.each([
    [{ secretEnv: { DB: "secret://env/DB" } }, /JobSpec.secret_env.DB: .*Secret Manager; use secret:\/\/gcp-sm/],
    [{ secretEnv: { DB: "secret://gcp-sm/a/b/c/d" } }, /does not name a Secret Manager secret/],
    [{ labels: { Team: "x" } }, /JobSpec.labels\["Team"\]: Google Cloud label keys/],
    [{ timeout: durationFromMs(25 * 3600_000) }, /longer than Cloud Run's maximum task timeout/],
    [
      { target: { kind: { case: "awsEcs", value: {} } } },
      /got target.aws_ecs; run this job through the plugin that owns target.aws_ecs/,
    ],
  ])("refuses a spec Cloud Run cannot run before any call (%#)", async (over, message) => {
    await expect(h.runner.runJob(spec(over), h.context)).rejects.toThrow(message);
    await expect(h.runner.runJob(spec(over), h.context)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(h.fake.run.jobNames()).toEqual([]);
  });
});

describe("JobStatus", () => {
  it("reports the task's real exit code", async () => {
    h.fake.run.setExecutionScript({ runMs: 40, exitCode: 3, message: "exit status 3" });
    const { handle } = await h.runner.runJob(spec(), h.context);
    const status = await waitFor(handle);
    expect(status.state).toBe(JobState.FAILED);
    expect(status.exitCode).toBe(3);
    expect(status.reason).toContain("exit status 3");
    expect(status.finishedAt).toBeDefined();
  });

  it("reports success with exit code 0 and RUNNING before", async () => {
    h.fake.run.setExecutionScript({ runMs: 300, exitCode: 0 });
    const { handle } = await h.runner.runJob(spec(), h.context);
    expect((await waitFor(handle, (s) => s.state === JobState.RUNNING)).exitCode).toBeUndefined();
    const status = await waitFor(handle);
    expect(status.state).toBe(JobState.SUCCEEDED);
    expect(status.exitCode).toBe(0);
  });

  it("reports a task killed by a signal as 128 + the signal", async () => {
    h.fake.run.setExecutionScript({ runMs: 40, termSignal: 9, message: "Memory limit of 512 MiB exceeded" });
    const { handle } = await h.runner.runJob(spec(), h.context);
    const status = await waitFor(handle);
    expect(status).toMatchObject({ state: JobState.FAILED, exitCode: 137 });
    expect(status.reason).toContain("Memory limit of 512 MiB exceeded");
  });

  it("reports a task that ran past its timeout as failed without an exit code", async () => {
    h.fake.run.setExecutionScript({ runMs: 5_000 });
    const { handle } = await h.runner.runJob(spec({ timeout: durationFromMs(1000) }), h.context);
    h.fake.clock.advance(2000);
    const status = await waitFor(handle);
    expect(status.state).toBe(JobState.FAILED);
    expect(status.exitCode).toBeUndefined();
    expect(status.reason).toMatch(/timed out/);
  });

  it("reports an image that cannot be pulled as failed, with Cloud Run's message", async () => {
    h.fake.run.setExecutionScript({
      runMs: 10,
      startFailure: { reason: "CONTAINER_MISSING", message: "Image 'x' not found." },
    });
    const { handle } = await h.runner.runJob(spec(), h.context);
    const status = await waitFor(handle);
    expect(status.state).toBe(JobState.FAILED);
    expect(status.exitCode).toBeUndefined();
    expect(status.reason).toContain("Image 'x' not found.");
  });

  it("answers many jobs with a few cross-job list calls, matched by name", async () => {
    await h.close();
    h = await startGcpHarness({ deleteFinishedJobs: false, statusPollIntervalMs: 60_000 });
    h.fake.run.setPageLimits({ maxSize: 4 });
    h.fake.run.setExecutionScript((context) => ({ runMs: 20, exitCode: Number(context.args[0]) }));
    const handles: JobHandle[] = [];
    for (let i = 0; i < 10; i++)
      handles.push((await h.runner.runJob(spec({ args: [String(i)] }), h.context)).handle as JobHandle);
    await new Promise((r) => setTimeout(r, 150));
    // A plugin process that has not seen these jobs yet.
    await configureDirectly(h.plugin.definition, {
      configJson: new TextEncoder().encode(JSON.stringify(h.config)),
    });
    h.fake.calls.reset();
    const out = await h.runner.batchJobStatus(
      create(BatchJobStatusRequestSchema, {
        handles: [...handles, create(JobHandleSchema, { provider: "gcp", jobId: "nope" })],
      }),
      h.context,
    );
    const codes = (out.results ?? []).map((r) =>
      r.result?.case === "status" ? (r.result.value as JobStatus).exitCode : r.result?.case,
    );
    expect(codes).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, "error"]);
    // 10 executions and 10 tasks at 4 per page: 3 pages each.
    expect(h.fake.calls.snapshot()).toMatchObject({ ListExecutions: 3, ListTasks: 3 });
    expect(h.fake.calls.snapshot().GetExecution).toBeUndefined();
  });
});

describe("CancelJob and cleanup", () => {
  it("cancels a running execution; cancelling it again once finished is not an error", async () => {
    h.fake.run.setExecutionScript({ runMs: 60_000 });
    const { handle } = await h.runner.runJob(spec(), h.context);
    await waitFor(handle, (s) => s.state === JobState.RUNNING);
    await h.runner.cancelJob(create(CancelJobRequestSchema, { handle, reason: "user" }), h.context);
    expect((await waitFor(handle)).state).toBe(JobState.CANCELLED);
    const again = await h.runner.cancelJob(create(CancelJobRequestSchema, { handle }), h.context);
    expect(again.status?.state).toBe(JobState.CANCELLED);
  });

  it("reports a job whose cancellation is under way as still running, then cancelled", async () => {
    h.fake.run.setExecutionScript({ runMs: 60_000 });
    h.fake.run.setCancelDelayMs(400);
    const { handle } = await h.runner.runJob(spec(), h.context);
    await waitFor(handle, (s) => s.state === JobState.RUNNING);
    const out = await h.runner.cancelJob(create(CancelJobRequestSchema, { handle }), h.context);
    expect(out.status).toMatchObject({ state: JobState.RUNNING, reason: "cancelling" });
    expect((await waitFor(handle)).state).toBe(JobState.CANCELLED);
  });

  it("deletes the Cloud Run job once its execution finished, keeping its status", async () => {
    h.fake.run.setExecutionScript({ runMs: 20, exitCode: 0 });
    const { handle } = await h.runner.runJob(spec({ idempotencyKey: "cleanup" }), h.context);
    expect(h.fake.run.jobNames()).toHaveLength(1);
    expect((await waitFor(handle)).state).toBe(JobState.SUCCEEDED);
    for (let i = 0; i < 100 && h.fake.run.jobNames().length > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(h.fake.run.jobNames()).toEqual([]);
    expect(h.fake.calls.snapshot().DeleteJob).toBe(1);
    expect((await statusOf(handle)).state).toBe(JobState.SUCCEEDED);
  });

  it("a repeat after the job finished and was deleted returns the finished run instead of running it again", async () => {
    h.fake.run.setExecutionScript({ runMs: 20, exitCode: 0 });
    const first = await h.runner.runJob(spec({ idempotencyKey: "once" }), h.context);
    await waitFor(first.handle);
    for (let i = 0; i < 100 && h.fake.run.jobNames().length > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(h.fake.run.jobNames()).toEqual([]);
    const again = await h.runner.runJob(spec({ idempotencyKey: "once" }), h.context);
    expect(again).toMatchObject({ deduplicated: true, handle: { jobId: first.handle?.jobId } });
    expect(h.fake.run.jobNames()).toEqual([]);
    expect(h.fake.calls.snapshot().CreateJob).toBe(1);
  });

  it("tries a failed delete again", async () => {
    h.fake.run.setExecutionScript({ runMs: 20, exitCode: 0 });
    h.fake.faults.inject("DeleteJob", GcpFaults.unavailable, 2);
    const { handle } = await h.runner.runJob(spec(), h.context);
    await waitFor(handle);
    for (let i = 0; i < 200 && h.fake.run.jobNames().length > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(h.fake.run.jobNames()).toEqual([]);
    expect(h.fake.calls.snapshot().DeleteJob).toBe(3);
  });
});
