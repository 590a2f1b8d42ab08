import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { durationFromMs, type Timestamp, timestampMs } from "@bufbuild/protobuf/wkt";
import { configureDirectly } from "@flotilla/plugin-sdk/testing";
import {
  BatchJobStatusRequestSchema,
  CancelJobRequestSchema,
  FailedPreconditionError,
  InvalidArgumentError,
  type JobHandle,
  type JobHandleSchema,
  JobState,
  type JobStatus,
  JobStatusRequestSchema,
  NotFoundError,
  RunJobRequestSchema,
} from "@flotilla/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AwsHarness, startAwsHarness } from "./fixtures/harness.js";
import { createAwsPlugin } from "./plugin.js";

let h: AwsHarness;
beforeEach(async () => {
  h = await startAwsHarness();
});
afterEach(async () => {
  await h.close();
});

const spec = (over: Record<string, unknown> = {}) =>
  create(RunJobRequestSchema, {
    spec: {
      name: "db-migrate",
      image: "ghcr.io/acme/migrate:1.2",
      command: ["/bin/migrate"],
      args: ["--up", "--verbose"],
      env: { STAGE: "prod" },
      secretEnv: { DB_PASSWORD: "secret://ssm/prod-db-password" },
      labels: { team: "data" },
      resources: { cpuMillicores: 500, memoryMib: 1024 },
      ...over,
    },
  });

async function statusOf(handle: MessageInitShape<typeof JobHandleSchema> | undefined): Promise<JobStatus> {
  const out = await h.runner.jobStatus(create(JobStatusRequestSchema, { handle }), h.context);
  return out.status as JobStatus;
}

async function waitForState(
  handle: MessageInitShape<typeof JobHandleSchema> | undefined,
  done: (s: JobStatus) => boolean,
): Promise<JobStatus> {
  for (let i = 0; i < 400; i++) {
    const status = await statusOf(handle);
    if (done(status)) return status;
    await new Promise((r) => setTimeout(r, 15));
  }
  throw new Error("job did not reach the expected state");
}

const terminal = (s: JobStatus) => [JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED].includes(s.state);

describe("RunJob", () => {
  it("starts one task with the derived task definition, overrides, network and job tags", async () => {
    const out = await h.runner.runJob(spec(), h.context);
    expect(out.deduplicated).toBe(false);
    const arns = h.fake.ecs.taskArns();
    expect(arns).toEqual([out.handle?.jobId]);
    const details = h.fake.ecs.taskDetails(arns[0] as string);
    expect(details.launchType).toBe("FARGATE");
    expect(details.overrides).toEqual({
      containerOverrides: [
        { name: "job", command: ["--up", "--verbose"], environment: [{ name: "STAGE", value: "prod" }] },
      ],
    });
    const tags = Object.fromEntries(details.tags.map((t) => [t.key, t.value]));
    expect(tags["flotilla:job-name"]).toBe("db-migrate");
    expect(tags.team).toBe("data");
    const td = details.taskDefinition as Record<string, unknown>;
    expect(td.family).toMatch(/^flotilla-[0-9a-f]{24}$/);
    expect(td.cpu).toBe("512");
    expect(td.memory).toBe("1024");
    expect(td.networkMode).toBe("awsvpc");
    const container = (td.containerDefinitions as Record<string, unknown>[])[0] as Record<string, unknown>;
    expect(container.image).toBe("ghcr.io/acme/migrate:1.2");
    expect(container.entryPoint).toEqual(["/bin/migrate"]);
    // The secret travels as a reference for ECS to resolve, never as a value.
    expect(container.secrets).toEqual([{ name: "DB_PASSWORD", valueFrom: "prod-db-password" }]);
    expect(h.fake.ecs.taskNetwork(arns[0] as string)).toEqual({
      awsvpcConfiguration: {
        subnets: ["subnet-0123456789abcdef0"],
        securityGroups: ["sg-0123456789abcdef0"],
        assignPublicIp: "DISABLED",
      },
    });
  });

  it("uses the target's cluster and capacity provider instead of the provider defaults", async () => {
    const out = await h.runner.runJob(
      spec({
        target: {
          kind: { case: "awsEcs", value: { cluster: "jobs", capacityProvider: "FARGATE_SPOT", assignPublicIp: true } },
        },
      }),
      h.context,
    );
    expect(out.handle?.jobId).toContain(":task/jobs/");
    const details = h.fake.ecs.taskDetails(out.handle?.jobId as string);
    expect(details.capacityProviderName).toBe("FARGATE_SPOT");
    expect(details.launchType).toBeUndefined();
  });

  it("registers a task definition once for identical content and reuses it", async () => {
    await h.runner.runJob(spec(), h.context);
    await h.runner.runJob(spec({ args: ["--down"], env: { STAGE: "dev" } }), h.context);
    expect(h.fake.ecs.registeredTaskDefinitionCount()).toBe(1);
    await h.runner.runJob(spec({ image: "ghcr.io/acme/migrate:1.3" }), h.context);
    expect(h.fake.ecs.registeredTaskDefinitionCount()).toBe(2);
  });

  it("finds the task definition a previous plugin process registered instead of registering again", async () => {
    await h.runner.runJob(spec(), h.context);
    const restarted = createAwsPlugin();
    const { testCredentials, testContext } = await import("./fixtures/harness.js");
    await configureDirectly(restarted.definition, {
      configJson: new TextEncoder().encode(JSON.stringify(h.config)),
      credentials: testCredentials(),
    });
    try {
      await restarted.definition.runner?.runJob(spec(), testContext());
      expect(h.fake.ecs.registeredTaskDefinitionCount()).toBe(1);
      expect(h.fake.calls.count("DescribeTaskDefinition")).toBe(2);
    } finally {
      await restarted.dispose();
    }
  });

  it("starts one task for a retried call with the same idempotency key and reports it deduplicated", async () => {
    const first = await h.runner.runJob(spec({ idempotencyKey: "deploy-42/migrate" }), h.context);
    const second = await h.runner.runJob(spec({ idempotencyKey: "deploy-42/migrate" }), h.context);
    expect(second.handle?.jobId).toBe(first.handle?.jobId);
    expect(second.deduplicated).toBe(true);
    expect(h.fake.ecs.taskArns()).toHaveLength(1);
    const third = await h.runner.runJob(spec({ idempotencyKey: "deploy-43/migrate" }), h.context);
    expect(third.deduplicated).toBe(false);
    expect(h.fake.ecs.taskArns()).toHaveLength(2);
  });

  it("deduplicates an idempotency key only within one cluster and for ECS's 24-hour token lifetime", async () => {
    const inCluster = (cluster: string) =>
      spec({ idempotencyKey: "nightly-2026-11-28", target: { kind: { case: "awsEcs", value: { cluster } } } });
    const first = await h.runner.runJob(inCluster("default"), h.context);
    const otherCluster = await h.runner.runJob(inCluster("jobs"), h.context);
    expect(otherCluster.deduplicated).toBe(false);
    expect(otherCluster.handle?.jobId).toContain(":task/jobs/");
    expect(await h.runner.runJob(inCluster("default"), h.context)).toMatchObject({
      deduplicated: true,
      handle: { jobId: first.handle?.jobId },
    });
    h.fake.clock.advance(24 * 60 * 60 * 1000);
    const dayLater = await h.runner.runJob(inCluster("default"), h.context);
    expect(dayLater.deduplicated).toBe(false);
    expect(dayLater.handle?.jobId).not.toBe(first.handle?.jobId);
    expect(h.fake.ecs.taskArns()).toHaveLength(3);
  });

  it("derives a client token within ECS's 64-character limit from a longer idempotency key, one task per key", async () => {
    // Two 73-character keys that share their first 64 characters.
    const sharedPrefix = "pipeline/nightly-warehouse-rebuild/stage-7/".padEnd(64, "x");
    const keyA = `${sharedPrefix}-attempt1`;
    const keyB = `${sharedPrefix}-attempt2`;
    const first = await h.runner.runJob(spec({ idempotencyKey: keyA }), h.context);
    expect(first.deduplicated).toBe(false);
    expect(h.fake.ecs.taskArns()).toEqual([first.handle?.jobId]);
    const retried = await h.runner.runJob(spec({ idempotencyKey: keyA }), h.context);
    expect(retried).toMatchObject({ deduplicated: true, handle: { jobId: first.handle?.jobId } });
    expect(h.fake.ecs.taskArns()).toEqual([first.handle?.jobId]);
    const other = await h.runner.runJob(spec({ idempotencyKey: keyB }), h.context);
    expect(other.deduplicated).toBe(false);
    expect(h.fake.ecs.taskArns()).toEqual([first.handle?.jobId, other.handle?.jobId]);
  });

  it("reads a zero timeout as no limit and refuses a negative one, as every provider does (jobTimeoutMs)", async () => {
    await expect(h.runner.runJob(spec({ timeout: { seconds: -5n, nanos: 0 } }), h.context)).rejects.toThrow(
      /^JobSpec\.timeout: negative/,
    );
    const { handle } = await h.runner.runJob(spec({ timeout: { seconds: 0n, nanos: 0 } }), h.context);
    expect(handle?.jobId).toBeTruthy();
  });

  it("rejects a bad spec before calling AWS, naming the field", async () => {
    await expect(h.runner.runJob(spec({ image: "" }), h.context)).rejects.toThrow(/JobSpec.image: required/);
    await expect(h.runner.runJob(spec({ secretEnv: { TOKEN: "plain-value" } }), h.context)).rejects.toThrow(
      /secret_env\["TOKEN"\]: expected a secret reference/,
    );
    await expect(
      h.runner.runJob(spec({ target: { kind: { case: "gcpCloudRun", value: { project: "p" } } } }), h.context),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(h.fake.calls.count("RunTask")).toBe(0);
    expect(h.fake.calls.count("RegisterTaskDefinition")).toBe(0);
  });

  it("refuses args and env longer than RunTask's 8192-character overrides before registering anything", async () => {
    const attempt = h.runner.runJob(spec({ env: { PAYLOAD: "x".repeat(8200) } }), h.context);
    await expect(attempt).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(attempt).rejects.toThrow(
      /JobSpec.args and JobSpec.env: \d+ characters as ECS RunTask overrides, more than the 8192/,
    );
    expect(h.fake.calls.count("RegisterTaskDefinition")).toBe(0);
    expect(h.fake.calls.count("RunTask")).toBe(0);
    // Just under the limit runs.
    await expect(h.runner.runJob(spec({ env: { PAYLOAD: "x".repeat(8000) } }), h.context)).resolves.toBeDefined();
  });

  it("keeps job tags within ECS's tag rules: 50 per task, unique keys, aws: reserved in values, no tab or newline", async () => {
    const labels = Object.fromEntries(Array.from({ length: 48 }, (_, i) => [`l${i}`, "v"]));
    await expect(h.runner.runJob(spec({ labels }), h.context)).rejects.toThrow(
      /JobSpec.labels: 48 labels, but ECS allows 50 tags per task and Flotilla uses 3 of them for this job; keep at most 47 labels/,
    );
    await expect(h.runner.runJob(spec({ labels: { "team!": "a", "team?": "b" } }), h.context)).rejects.toThrow(
      /JobSpec.labels\["team\?"\]: becomes the ECS tag key "team_" .*which label "team!" already has; rename one of them/,
    );
    await expect(h.runner.runJob(spec({ labels: { "flotilla:job-name": "x" } }), h.context)).rejects.toThrow(
      /which Flotilla's own tag flotilla:job-name already has/,
    );
    await expect(h.runner.runJob(spec({ labels: { owner: "AWS:team" } }), h.context)).rejects.toThrow(
      /JobSpec.labels\["owner"\]: values starting with "aws:" are reserved by AWS too/,
    );
    expect(h.fake.calls.count("RunTask")).toBe(0);
    const out = await h.runner.runJob(
      spec({
        name: "aws:nightly\tbuild",
        labels: { ...Object.fromEntries(Object.entries(labels).slice(0, 46)), note: "two\nlines" },
      }),
      h.context,
    );
    const tags = Object.fromEntries(
      h.fake.ecs.taskDetails(out.handle?.jobId as string).tags.map((t) => [t.key, t.value]),
    );
    expect(Object.keys(tags)).toHaveLength(50);
    expect(tags.note).toBe("two_lines");
    expect(tags["flotilla:job-name"]).toBe("aws_nightly_build");
  });

  it("refuses a public IP for a job that does not run on Fargate, and sends none for EC2", async () => {
    const ec2 = (assignPublicIp: boolean) =>
      spec({ target: { kind: { case: "awsEcs", value: { launchType: "EC2", assignPublicIp } } } });
    await expect(h.runner.runJob(ec2(true), h.context)).rejects.toThrow(
      /target.aws_ecs.assign_public_ip: only Fargate tasks can get a public IP, and this job runs on EC2; unset it, or run on Fargate/,
    );
    expect(h.fake.calls.count("RunTask")).toBe(0);
    const out = await h.runner.runJob(ec2(false), h.context);
    expect(h.fake.ecs.taskNetwork(out.handle?.jobId as string)).toEqual({
      awsvpcConfiguration: { subnets: ["subnet-0123456789abcdef0"], securityGroups: ["sg-0123456789abcdef0"] },
    });
  });

  it("fails with FailedPrecondition before Configure", async () => {
    const unconfigured = createAwsPlugin();
    await expect(unconfigured.definition.runner?.runJob(spec(), h.context)).rejects.toBeInstanceOf(
      FailedPreconditionError,
    );
  });
});

describe("JobStatus", () => {
  it("follows PENDING → RUNNING → SUCCEEDED with the real exit code and timestamps", async () => {
    // Phases long enough that a busy machine cannot skip one between two polls.
    const phases = { provisioningMs: 60, pendingMs: 300, runMs: 1500 };
    h.fake.ecs.setTaskScript(() => ({ ...phases, exitCode: 0 }));
    const ms = (t: Timestamp | undefined) => (t ? timestampMs(t) : Number.NaN);
    const { handle } = await h.runner.runJob(spec(), h.context);
    expect((await statusOf(handle)).state).toBe(JobState.PENDING);
    const running = await waitForState(handle, (s) => s.state !== JobState.PENDING);
    expect(running.state).toBe(JobState.RUNNING);
    expect(ms(running.startedAt) - ms(running.createdAt)).toBe(phases.provisioningMs + phases.pendingMs);
    expect(running.exitCode).toBeUndefined();
    const done = await waitForState(handle, terminal);
    expect(done.state).toBe(JobState.SUCCEEDED);
    expect(done.exitCode).toBe(0);
    expect(ms(done.startedAt)).toBe(ms(running.startedAt));
    expect(ms(done.finishedAt) - ms(done.startedAt)).toBe(phases.runMs);
  });

  it("reports a non-zero exit code as FAILED with that code", async () => {
    h.fake.ecs.setTaskScript(() => ({ exitCode: 3 }));
    const { handle } = await h.runner.runJob(spec(), h.context);
    const done = await waitForState(handle, terminal);
    expect(done.state).toBe(JobState.FAILED);
    expect(done.exitCode).toBe(3);
    expect(done.reason).toContain("EssentialContainerExited");
  });

  it.each([
    [
      "image pull failure",
      {
        exitCode: null,
        stopCode: "TaskFailedToStart",
        stoppedReason: "CannotPullContainerError: pull image manifest has been retried 5 time(s)",
      },
      /TaskFailedToStart: CannotPullContainerError/,
      undefined,
    ],
    [
      "out of memory",
      { exitCode: 137, containerReason: "OutOfMemoryError: Container killed due to memory usage" },
      /OutOfMemoryError: Container killed due to memory usage/,
      137,
    ],
    [
      "spot interruption",
      { exitCode: 143, stopCode: "SpotInterruption", stoppedReason: "Your Spot Task was interrupted." },
      /SpotInterruption: Your Spot Task was interrupted/,
      143,
    ],
  ])("explains a %s in the reason", async (_name, script, reason, exitCode) => {
    h.fake.ecs.setTaskScript(() => script);
    const { handle } = await h.runner.runJob(spec(), h.context);
    const done = await waitForState(handle, terminal);
    expect(done.state).toBe(JobState.FAILED);
    expect(done.reason).toMatch(reason);
    expect(done.exitCode).toBe(exitCode);
  });

  it("fails with NotFound for a task ECS does not know and InvalidArgument for a handle that is not a task ARN", async () => {
    const missing = {
      provider: "aws",
      jobId: "arn:aws:ecs:eu-west-1:123456789012:task/default/0123456789abcdef0123456789abcdef",
    } as JobHandle;
    await expect(statusOf(missing)).rejects.toBeInstanceOf(NotFoundError);
    await expect(statusOf({ provider: "aws", jobId: "not-an-arn" } as JobHandle)).rejects.toThrow(
      /is not an ECS task ARN/,
    );
  });

  it("answers BatchJobStatus per handle, with per-job errors in the results", async () => {
    h.fake.ecs.setTaskScript(() => ({ runMs: Number.POSITIVE_INFINITY }));
    const a = await h.runner.runJob(spec(), h.context);
    const b = await h.runner.runJob(spec(), h.context);
    const out = await h.runner.batchJobStatus(
      create(BatchJobStatusRequestSchema, {
        handles: [a.handle as JobHandle, { provider: "aws", jobId: "bogus" }, b.handle as JobHandle],
      }),
      h.context,
    );
    const results = out.results ?? [];
    expect(results.map((r) => r.result?.case)).toEqual(["status", "error", "status"]);
    expect(results[1]?.result).toMatchObject({ case: "error", value: { code: "INVALID_ARGUMENT" } });
  });

  it("refuses more than 1000 handles in one BatchJobStatus call", async () => {
    const handles = Array.from({ length: 1001 }, () => ({ provider: "aws", jobId: "x" }));
    await expect(h.runner.batchJobStatus(create(BatchJobStatusRequestSchema, { handles }), h.context)).rejects.toThrow(
      /at most 1000 per call, got 1001/,
    );
  });

  it("stops a job that runs past its timeout and reports it FAILED with the reason", async () => {
    h.fake.ecs.setTaskScript(() => ({ provisioningMs: 0, pendingMs: 0, runMs: Number.POSITIVE_INFINITY }));
    const { handle } = await h.runner.runJob(spec({ timeout: durationFromMs(1000) }), h.context);
    // The plugin measures the timeout on its own (real) clock from the task's createdAt.
    const done = await waitForState(handle, terminal);
    expect(done.state).toBe(JobState.FAILED);
    expect(done.reason).toMatch(/job timeout of 1s exceeded/);
    expect(h.fake.calls.count("StopTask")).toBe(1);
  });
});

describe("CancelJob", () => {
  it("cuts a long reason to the 255 characters StopTask allows", async () => {
    h.fake.ecs.setTaskScript(() => ({ runMs: Number.POSITIVE_INFINITY }));
    const { handle } = await h.runner.runJob(spec(), h.context);
    const reason = `deploy superseded: ${"r".repeat(300)}`;
    const out = await h.runner.cancelJob(create(CancelJobRequestSchema, { handle, reason }), h.context);
    expect(out.status?.reason).toBe(`UserInitiated: ${reason.slice(0, 255)}`);
  });

  it("stops the task with the reason; the job ends CANCELLED", async () => {
    h.fake.ecs.setTaskScript(() => ({ runMs: Number.POSITIVE_INFINITY }));
    const { handle } = await h.runner.runJob(spec(), h.context);
    await waitForState(handle, (s) => s.state === JobState.RUNNING);
    const out = await h.runner.cancelJob(
      create(CancelJobRequestSchema, { handle, reason: "user pressed ctrl-c" }),
      h.context,
    );
    expect([JobState.RUNNING, JobState.CANCELLED]).toContain(out.status?.state);
    const done = await waitForState(handle, terminal);
    expect(done.state).toBe(JobState.CANCELLED);
    expect(done.reason).toBe("UserInitiated: user pressed ctrl-c");
    // Cancelling a finished job is not an error.
    await expect(h.runner.cancelJob(create(CancelJobRequestSchema, { handle }), h.context)).resolves.toMatchObject({
      status: {
        handle: { jobId: handle?.jobId },
        state: JobState.CANCELLED,
        reason: "UserInitiated: user pressed ctrl-c",
      },
    });
  });
});
