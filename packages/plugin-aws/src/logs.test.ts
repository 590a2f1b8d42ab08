import { create } from "@bufbuild/protobuf";
import { AwsFaults } from "@flotilla/fakes";
import {
  FailedPreconditionError,
  InvalidArgumentError,
  type JobHandle,
  JobLogsRequestSchema,
  type JobLogsResponse,
  LogStream,
  PermissionDeniedError,
  RunJobRequestSchema,
} from "@flotilla/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AwsHarness, collect, startAwsHarness } from "./harness.test-util.js";
import { decodeLogCursor, encodeLogCursor } from "./logs.js";

let h: AwsHarness;
beforeEach(async () => {
  h = await startAwsHarness();
});
afterEach(async () => {
  await h.close();
});

async function run(): Promise<JobHandle> {
  const out = await h.runner.runJob(
    create(RunJobRequestSchema, { spec: { name: "logs", image: "busybox" } }),
    h.context,
  );
  return out.handle as JobHandle;
}

function texts(pages: Array<{ lines?: Array<{ text?: string }> }>): string[] {
  return pages.flatMap((p) => (p.lines ?? []).map((l) => l.text ?? ""));
}

function logs(handle: JobHandle, follow: boolean, cursor = "") {
  return h.runner.jobLogs(
    create(JobLogsRequestSchema, { handle, follow, cursor }),
    h.context,
  ) as AsyncIterable<JobLogsResponse>;
}

describe("JobLogs", () => {
  it("follows a running task's log until it stopped and the stream is drained", async () => {
    h.fake.ecs.setTaskScript(() => ({
      runMs: 1500,
      logLines: [
        { afterMs: 0, text: "starting" },
        { afterMs: 700, text: "halfway" },
        { afterMs: 1499, text: "done\n" },
      ],
    }));
    const handle = await run();
    const pages = await collect(logs(handle, true));
    expect(texts(pages)).toEqual(["starting", "halfway", "done"]);
    // The lines arrived in more than one page: the log was followed, not read once at the end.
    expect(pages.length).toBeGreaterThan(1);
    expect(pages[0]?.lines?.[0]?.time).toBeDefined();
  });

  it("resumes after the line whose cursor it is given", async () => {
    h.fake.ecs.setTaskScript(() => ({ runMs: 20, logLines: ["one", "two", "three", "four"] }));
    const handle = await run();
    const all = await collect(logs(handle, true));
    const lines = all.flatMap((p) => p.lines ?? []);
    expect(lines.map((l) => l.text)).toEqual(["one", "two", "three", "four"]);
    const afterTwo = await collect(logs(handle, false, lines[1]?.cursor));
    expect(texts(afterTwo)).toEqual(["three", "four"]);
    const afterFour = await collect(logs(handle, true, lines[3]?.cursor));
    expect(texts(afterFour)).toEqual([]);
  });

  it("without follow ends at the current end of the log while the task still runs", async () => {
    h.fake.ecs.setTaskScript(() => ({
      provisioningMs: 0,
      pendingMs: 0,
      runMs: Number.POSITIVE_INFINITY,
      logLines: ["early", { afterMs: 60_000, text: "late" }],
    }));
    const handle = await run();
    // The fake writes "early" shortly after the task starts: read again until it is there. Each read
    // must still end (the task never stops) and must not include "late", a minute away.
    await expect
      .poll(async () => texts(await collect(logs(handle, false))), { timeout: 10_000, interval: 50 })
      .toEqual(["early"]);
  });

  it("ends a followed log of a task that never started (no stream) once the task stopped", async () => {
    h.fake.ecs.setTaskScript(() => ({ exitCode: null, stoppedReason: "CannotPullContainerError: not found" }));
    const handle = await run();
    expect(texts(await collect(logs(handle, true)))).toEqual([]);
  });

  it("refuses with FailedPrecondition a task whose container does not log to CloudWatch", async () => {
    const { ECSClient, RegisterTaskDefinitionCommand, RunTaskCommand } = await import("@aws-sdk/client-ecs");
    const ecs = new ECSClient({
      region: "eu-west-1",
      endpoint: h.fake.endpoint,
      credentials: { accessKeyId: "a", secretAccessKey: "b" },
    });
    try {
      await ecs.send(
        new RegisterTaskDefinitionCommand({
          family: "nolog",
          containerDefinitions: [{ name: "job", image: "busybox" }],
        }),
      );
      const out = await ecs.send(new RunTaskCommand({ cluster: "default", taskDefinition: "nolog" }));
      const handle = { provider: "aws", jobId: out.tasks?.[0]?.taskArn ?? "" } as JobHandle;
      await expect(collect(logs(handle, false))).rejects.toBeInstanceOf(FailedPreconditionError);
    } finally {
      ecs.destroy();
    }
  });

  it("rejects a cursor it did not issue", async () => {
    const handle = await run();
    await expect(collect(logs(handle, false, "garbage!"))).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(() => decodeLogCursor(encodeLogCursor({ token: "f/1", skip: 2 }))).not.toThrow();
  });

  it("turns a transient read failure while following into a warning line and carries on", async () => {
    h.fake.ecs.setTaskScript(() => ({ runMs: 100, logLines: ["before", { afterMs: 90, text: "after" }] }));
    const handle = await run();
    // Two throttled attempts (maxAttempts is 2 in the harness) fail one read after the SDK's retries.
    h.fake.faults.inject("GetLogEvents", AwsFaults.throttling, 2);
    const lines = (await collect(logs(handle, true))).flatMap((p) => p.lines ?? []);
    expect(lines[0]).toMatchObject({ stream: LogStream.SYSTEM });
    expect(lines[0]?.text).toMatch(/^warning: reading the log failed and will be retried: .*ThrottlingException/);
    expect(lines.slice(1).map((l) => l.text)).toEqual(["before", "after"]);
  });

  it("translates a log read the plugin may not do into PermissionDenied", async () => {
    h.fake.ecs.setTaskScript(() => ({ runMs: 10, logLines: ["x"] }));
    const handle = await run();
    h.fake.faults.inject("GetLogEvents", AwsFaults.accessDenied, 1);
    await expect(collect(logs(handle, true))).rejects.toBeInstanceOf(PermissionDeniedError);
  });
});
