import { create } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { AwsFaults, getLogEventsMaxEvents } from "@flotilla/fakes";
import { RequestBudget } from "@flotilla/plugin-sdk";
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
import { type AwsHarness, collect, startAwsHarness } from "./fixtures/harness.js";
import {
  decodeLogCursor,
  defaultLogRequestsPerSecond,
  encodeLogCursor,
  type LogCursor,
  type LogSource,
  logRequestBurst,
  readJobLog,
} from "./logs.js";

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
    // Each line carries the time the container wrote it, as the script spaced them.
    const times = pages.flatMap((p) => p.lines.map((l) => (l.time ? timestampMs(l.time) : Number.NaN)));
    expect(times.map((t) => t - (times[0] as number))).toEqual([0, 700, 1499]);
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

  it("resumes from any line's cursor across GetLogEvents pages, losing and repeating nothing", async () => {
    const written = Array.from({ length: getLogEventsMaxEvents + 5 }, (_, i) => `line ${i + 1}`);
    h.fake.ecs.setTaskScript(() => ({ runMs: 20, logLines: written }));
    const handle = await run();
    const pages = await collect(logs(handle, true));
    // The first GetLogEvents page is full: the rest of the log came from the next page.
    expect(pages[0]?.lines).toHaveLength(getLogEventsMaxEvents);
    const lines = pages.flatMap((p) => p.lines ?? []);
    expect(lines.map((l) => l.text)).toEqual(written);

    // A reader that stops a few lines before the page boundary and resumes from its last cursor.
    const stopAt = getLogEventsMaxEvents - 3;
    const partial: string[] = [];
    let lastCursor = "";
    reading: for await (const page of logs(handle, false)) {
      for (const line of page.lines) {
        partial.push(line.text);
        lastCursor = line.cursor;
        if (partial.length === stopAt) break reading;
      }
    }
    const resumed = (await collect(logs(handle, false, lastCursor))).flatMap((p) => p.lines ?? []);
    expect([...partial, ...resumed.map((l) => l.text)]).toEqual(written);
    // A cursor handed out by a resumed read resumes too.
    const resumedAgain = await collect(logs(handle, false, resumed[0]?.cursor));
    expect(texts(resumedAgain)).toEqual(written.slice(stopAt + 1));

    // The last line of the first page, and a line on the second page.
    for (const index of [getLogEventsMaxEvents - 1, getLogEventsMaxEvents + 1]) {
      const after = await collect(logs(handle, false, lines[index]?.cursor));
      expect(texts(after)).toEqual(written.slice(index + 1));
    }
  });

  it("reads on past an empty page with a new token (a gap in time), following and not", async () => {
    // Across a gap CloudWatch answers an empty page with a NEW forward token; only the same token means the end.
    h.fake.logs.setEmptyPagesAcrossGaps(50);
    h.fake.ecs.setTaskScript(() => ({ runMs: 400, logLines: ["before", { afterMs: 300, text: "after" }] }));
    const handle = await run();
    expect(texts(await collect(logs(handle, true)))).toEqual(["before", "after"]);
    const once = (await collect(logs(handle, false))).flatMap((p) => p.lines ?? []);
    expect(once.map((l) => l.text)).toEqual(["before", "after"]);
    // Resuming from the line before the gap crosses it too, losing and repeating nothing.
    expect(texts(await collect(logs(handle, false, once[0]?.cursor)))).toEqual(["after"]);
    expect(texts(await collect(logs(handle, false, once[1]?.cursor)))).toEqual([]);
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

  it("rejects a cursor it did not issue, naming the field", async () => {
    const handle = await run();
    const read = collect(logs(handle, false, "garbage!"));
    await expect(read).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(read).rejects.toThrow(/^JobLogsRequest\.cursor: not a cursor the aws plugin issued/);
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

/** A CloudWatch Logs client of the real SDK against the fake, without SDK retries (each call is one request). */
async function logsClient() {
  const { CloudWatchLogsClient } = await import("@aws-sdk/client-cloudwatch-logs");
  return new CloudWatchLogsClient({
    region: "eu-west-1",
    endpoint: h.fake.endpoint,
    credentials: { accessKeyId: "a", secretAccessKey: "b" },
    maxAttempts: 1,
  });
}

/** readJobLog on the fake's clock: waiting moves the clock instead of taking time. */
function onFakeClock(source: Omit<LogSource, "now" | "sleep" | "signal">): LogSource {
  return {
    ...source,
    signal: new AbortController().signal,
    now: () => h.fake.clock.now(),
    sleep: async (ms) => h.fake.clock.advance(ms),
  };
}

async function readAll(source: LogSource): Promise<string[]> {
  const lines: string[] = [];
  for await (const page of readJobLog(source)) lines.push(...page.map((l) => l.text ?? ""));
  return lines;
}

describe("readJobLog after the task stopped", () => {
  it("drains lines CloudWatch delivers late (ingestion lag) until quiet for the grace period", async () => {
    const client = await logsClient();
    try {
      // The task has stopped, and its last lines are still on their way to CloudWatch.
      h.fake.logs.setIngestionLag(3_000);
      h.fake.logs.append("/g", "s", "second to last");
      h.fake.logs.append("/g", "s", "last");
      const start = h.fake.clock.now();
      const lines = await readAll(
        onFakeClock({
          logs: client,
          group: "/g",
          stream: "s",
          cursor: { token: undefined, skip: 0 },
          follow: true,
          isFinished: async () => true,
          pollIntervalMs: 1_000,
          drainGraceMs: 10_000,
        }),
      );
      expect(lines).toEqual(["second to last", "last"]);
      // It ended by itself once the stream had been quiet for the grace period (fake time, not real).
      expect(h.fake.clock.now() - start).toBeGreaterThanOrEqual(3_000 + 10_000);
    } finally {
      client.destroy();
    }
  });

  it("with no grace reads once more after the stop, and no longer", async () => {
    const client = await logsClient();
    try {
      h.fake.logs.append("/g", "s", "only");
      let asked = 0;
      const lines = await readAll(
        onFakeClock({
          logs: client,
          group: "/g",
          stream: "s",
          cursor: { token: undefined, skip: 0 },
          follow: true,
          isFinished: async () => {
            asked += 1;
            return true;
          },
          pollIntervalMs: 1_000,
          drainGraceMs: 0,
        }),
      );
      expect(lines).toEqual(["only"]);
      expect(asked).toBe(1);
    } finally {
      client.destroy();
    }
  });
});

describe("readJobLog within the GetLogEvents quota", () => {
  it("keeps 30 readers of one region inside the quota with one shared budget", async () => {
    const client = await logsClient();
    try {
      // Calls are counted per second of the fake's clock: stop it from following the wall clock, or the real
      // time requests spend in flight (long on a loaded machine) would bunch calls the budget spaced apart.
      h.fake.clock.stop();
      // CloudWatch's quota: 25 GetLogEvents per second per account and Region.
      h.fake.logs.setGetLogEventsRateLimit(25);
      const streams = Array.from({ length: 30 }, (_, i) => `job-${i}`);
      // Fake timers on the fake's clock: a sleeper wakes when the clock reaches its time, and the clock moves
      // only once every reader is asleep or done, so no request is in flight while time jumps.
      const timers: Array<{ due: number; wake: () => void }> = [];
      const sleep = (ms: number) => new Promise<void>((wake) => timers.push({ due: h.fake.clock.now() + ms, wake }));
      const budget = new RequestBudget({
        ratePerSecond: defaultLogRequestsPerSecond,
        burst: logRequestBurst(defaultLogRequestsPerSecond),
        now: () => h.fake.clock.now(),
        sleep,
      });
      for (const stream of streams) for (const n of [1, 2, 3]) h.fake.logs.append("/g", stream, `${stream} line ${n}`);
      let done = 0;
      const reads = streams.map(async (stream) => {
        try {
          return await readAll({
            ...onFakeClock({
              logs: client,
              group: "/g",
              stream,
              cursor: { token: undefined, skip: 0 },
              follow: false,
              isFinished: async () => true,
              pollIntervalMs: 1_000,
              drainGraceMs: 0,
              budget,
            }),
            sleep,
          });
        } finally {
          done += 1;
        }
      });
      while (done < streams.length) {
        if (timers.length + done < streams.length) {
          await new Promise((resolve) => setTimeout(resolve, 1));
          continue;
        }
        timers.sort((a, b) => a.due - b.due);
        const next = timers.shift() as { due: number; wake: () => void };
        h.fake.clock.advance(Math.max(0, next.due - h.fake.clock.now()));
        next.wake();
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      expect(await Promise.all(reads)).toEqual(streams.map((stream) => [1, 2, 3].map((n) => `${stream} line ${n}`)));
      expect(h.fake.logs.throttledGetLogEvents).toBe(0);
    } finally {
      client.destroy();
    }
  });

  it("gives every followed log of a region the same budget, and each region its own", () => {
    const rt = h.plugin.runtime();
    expect(rt.logBudget("eu-west-1")).toBe(rt.logBudget("eu-west-1"));
    expect(rt.logBudget("us-east-1")).not.toBe(rt.logBudget("eu-west-1"));
    expect(rt.logBudget("eu-west-1")).toMatchObject({ ratePerSecond: 20, burst: 5 });
  });

  it("backs off exponentially while GetLogEvents is throttled, and holds the shared budget back", async () => {
    const client = await logsClient();
    try {
      h.fake.logs.append("/g", "s", "line");
      h.fake.faults.inject("GetLogEvents", AwsFaults.throttling, 3);
      const waits: number[] = [];
      const budget = new RequestBudget({
        ratePerSecond: 10,
        now: () => h.fake.clock.now(),
        sleep: async (ms) => {
          waits.push(ms);
          h.fake.clock.advance(ms);
        },
      });
      const source = onFakeClock({
        logs: client,
        group: "/g",
        stream: "s",
        cursor: { token: undefined, skip: 0 },
        follow: true,
        isFinished: async () => true,
        pollIntervalMs: 1_000,
        drainGraceMs: 0,
        budget,
      });
      const sleeps: number[] = [];
      const lines: string[] = [];
      for await (const page of readJobLog({
        ...source,
        sleep: async (ms) => {
          sleeps.push(ms);
          h.fake.clock.advance(ms);
        },
      }))
        lines.push(...page.map((l) => l.text ?? ""));
      expect(lines.slice(0, 3)).toEqual([
        expect.stringMatching(/throttled: backing off 1000 ms/),
        expect.stringMatching(/throttled: backing off 2000 ms/),
        expect.stringMatching(/throttled: backing off 4000 ms/),
      ]);
      expect(lines.slice(3)).toEqual(["line"]);
      // The reader waited out each back-off before trying again.
      expect(sleeps.slice(0, 3)).toEqual([1_000, 2_000, 4_000]);
      // And the shared budget made the next caller wait as well.
      expect(waits.length).toBeGreaterThan(0);
    } finally {
      client.destroy();
    }
  });
});

describe("log cursors", () => {
  it.each<LogCursor>([
    { token: "f/000000010000", skip: 0 },
    { token: "f/000000000007", skip: 2 },
    { token: undefined, skip: 3 },
    { token: undefined, skip: 0 },
  ])("decode(encode(%o)) is the cursor encoded", (cursor) => {
    expect(decodeLogCursor(encodeLogCursor(cursor))).toStrictEqual(cursor);
  });

  it("reads the empty cursor as the head of the log", () => {
    expect(decodeLogCursor("")).toStrictEqual({ token: undefined, skip: 0 });
  });

  const encoded = (json: string) => Buffer.from(json).toString("base64url");
  it.each([
    ["not base64 JSON", "garbage!"],
    ["a negative skip", encoded('{"t":"f/1","n":-1}')],
    ["a fractional skip", encoded('{"t":"f/1","n":1.5}')],
    ["no skip", encoded('{"t":"f/1"}')],
    ["a token that is not a string", encoded('{"t":7,"n":0}')],
    ["JSON null", encoded("null")],
  ])("rejects %s with InvalidArgument naming JobLogsRequest.cursor", (_name, text) => {
    expect(() => decodeLogCursor(text)).toThrow(InvalidArgumentError);
    expect(() => decodeLogCursor(text)).toThrow(/^JobLogsRequest\.cursor: not a cursor the aws plugin issued/);
  });
});
