import { Code, FlotillaError, InternalError, LogStream, NotFoundError, UnavailableError } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import { GAP, PagedLog, type PagedLogOptions } from "./fixtures/paged-log.js";
import { classifyReadError, type FollowLogOptions, followLog, type LogLineInit } from "./follow-log.js";
import { decodeLogCursor, type LogPosition } from "./log-cursor.js";
import { RequestBudget } from "./request-budget.js";

const classifyError = (err: unknown) =>
  classifyReadError(err instanceof FlotillaError ? err : new InternalError(String(err)));

/** A clock that only moves when the reader sleeps: the tests take no real time and measure none. */
function fakeClock() {
  const clock = {
    ms: 0,
    slept: [] as number[],
    now: () => clock.ms,
    sleep: async (ms: number) => {
      clock.slept.push(ms);
      clock.ms += ms;
    },
  };
  return clock;
}

function options(log: PagedLog, extra: Partial<FollowLogOptions<string>> = {}): FollowLogOptions<string> {
  return {
    readPage: log.readPage,
    toLine: (text) => ({ stream: LogStream.STDOUT, text }),
    classifyError,
    signal: new AbortController().signal,
    ...extra,
  };
}

async function readAll(opts: FollowLogOptions<string>): Promise<LogLineInit[]> {
  const lines: LogLineInit[] = [];
  for await (const page of followLog(opts)) lines.push(...page);
  return lines;
}

const texts = (lines: LogLineInit[]) => lines.map((l) => l.text);
const position = (line: LogLineInit | undefined): LogPosition =>
  decodeLogCursor(line?.cursor ?? "", { issuer: "test" });

describe.each<PagedLogOptions>([
  { pageSize: 4, end: "same" },
  { pageSize: 4, end: "none" },
  { pageSize: 1, end: "none" },
])("followLog over pages of %o", (paging) => {
  const written = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"];
  const withGaps = () => {
    const log = new PagedLog(paging);
    // Gaps in time: empty pages with new tokens, within a page's worth of entries and at a page boundary.
    log.append("a", "b", GAP, "c", "d", "e", "f", GAP, GAP, "g", "h", "i", "j", "k");
    return log;
  };

  it("reads the whole log once, across pages and gaps, each entry once and in order", async () => {
    const lines = await readAll(options(withGaps()));
    expect(texts(lines)).toEqual(written);
    expect(lines.every((l) => l.stream === LogStream.STDOUT)).toBe(true);
  });

  it("resumes from every line's cursor with nothing lost and nothing repeated", async () => {
    const log = withGaps();
    const lines = await readAll(options(log));
    for (const [i, line] of lines.entries()) {
      const rest = await readAll(options(log, { from: position(line) }));
      expect(texts(rest), `after line ${i} (${line.text})`).toEqual(written.slice(i + 1));
      // A cursor handed out by a resumed read resumes as well.
      if (rest.length > 1) {
        expect(texts(await readAll(options(log, { from: position(rest[0]) })))).toEqual(written.slice(i + 2));
      }
    }
  });

  it("resumes after the last line once more lines were written, without repeating the last page", async () => {
    const log = withGaps();
    const first = await readAll(options(log));
    log.append("l", "m", GAP, "n");
    expect(texts(await readAll(options(log, { from: position(first.at(-1)) })))).toEqual(["l", "m", "n"]);
  });
});

describe("followLog while following", () => {
  it("keeps reading a growing log until the job ended and the log was quiet for the grace period", async () => {
    const clock = fakeClock();
    const log = new PagedLog({ pageSize: 2, end: "same" });
    log.append("one");
    let finished = false;
    // The job writes a line every 1 s of the fake clock, ends at 3 s; two lines arrive late, at 5 s and 9 s.
    const schedule: Array<[number, () => void]> = [
      [1_000, () => log.append("two")],
      [2_000, () => log.append("three")],
      [3_000, () => (finished = true)],
      [5_000, () => log.append("late")],
      [9_000, () => log.append("later")],
    ];
    const lines = await readAll(
      options(log, {
        follow: { isFinished: async () => finished, pollIntervalMs: 500, drainGraceMs: 4_000 },
        now: clock.now,
        sleep: async (ms) => {
          await clock.sleep(ms);
          while (schedule[0] && schedule[0][0] <= clock.ms) schedule.shift()?.[1]();
        },
      }),
    );
    expect(texts(lines)).toEqual(["one", "two", "three", "late", "later"]);
    // It ended once 4 s had passed without a new line after "later" (at 9 s), not before.
    expect(clock.ms).toBeGreaterThanOrEqual(13_000);
    expect(clock.ms).toBeLessThan(13_000 + 500 + 1);
  });

  it("stops draining after maxDrainMs even if late lines keep arriving", async () => {
    const clock = fakeClock();
    const log = new PagedLog({ pageSize: 10, end: "same" });
    let n = 0;
    const lines = await readAll(
      options(log, {
        follow: { isFinished: async () => true, pollIntervalMs: 1_000, drainGraceMs: 5_000, maxDrainMs: 20_000 },
        now: clock.now,
        sleep: async (ms) => {
          await clock.sleep(ms);
          if (clock.ms > 120_000) throw new Error("still draining after 120 s of fake time");
          // A source that never goes quiet: a new line before every read.
          log.append(`late ${++n}`);
        },
      }),
    );
    expect(lines.length).toBeGreaterThan(10);
    expect(clock.ms).toBeGreaterThanOrEqual(20_000);
    expect(clock.ms).toBeLessThanOrEqual(21_000);
  });

  it("with no grace period reads once more after the end, and no longer", async () => {
    const clock = fakeClock();
    const log = new PagedLog({ pageSize: 10, end: "same" });
    log.append("only");
    let asked = 0;
    const lines = await readAll(
      options(log, {
        follow: {
          isFinished: async () => {
            asked += 1;
            return true;
          },
          pollIntervalMs: 1_000,
          drainGraceMs: 0,
        },
        now: clock.now,
        sleep: clock.sleep,
      }),
    );
    expect(texts(lines)).toEqual(["only"]);
    expect(asked).toBe(1);
    expect(clock.slept).toEqual([1_000]);
  });

  it("treats a log that is not there yet as empty and ends after the job ended", async () => {
    const clock = fakeClock();
    let reads = 0;
    const lines = await readAll({
      readPage: async () => {
        reads += 1;
        throw new NotFoundError("no such log stream");
      },
      toLine: (text: string) => ({ text }),
      classifyError,
      signal: new AbortController().signal,
      follow: { isFinished: async () => reads >= 3, pollIntervalMs: 1_000, drainGraceMs: 2_000 },
      now: clock.now,
      sleep: clock.sleep,
    });
    expect(lines).toEqual([]);
    expect(reads).toBeGreaterThanOrEqual(3);
  });

  it("wakes at once when the source says it changed, instead of waiting for the next poll", async () => {
    const log = new PagedLog({ pageSize: 10, end: "same" });
    log.append("first");
    let notify = () => {};
    let finished = false;
    const reader = followLog(
      options(log, {
        follow: {
          isFinished: async () => finished,
          pollIntervalMs: 3_600_000,
          drainGraceMs: 0,
          changed: () => new Promise((resolve) => (notify = () => resolve(undefined))),
        },
        // A poll that never comes by itself: only `changed` can wake the reader.
        sleep: (_ms, signal) =>
          new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))),
      }),
    );
    expect(texts((await reader.next()).value ?? [])).toEqual(["first"]);
    const next = reader.next();
    await new Promise((resolve) => setImmediate(resolve));
    log.append("second");
    notify();
    expect(texts((await next).value ?? [])).toEqual(["second"]);
    // The job ends: the reader sees it when it next catches up, then reads once more (no grace) and ends.
    finished = true;
    const end = reader.next();
    await new Promise((resolve) => setImmediate(resolve));
    notify();
    expect((await end).done).toBe(true);
  });
});

describe("followLog when the API throttles", () => {
  const throttled = () => new FlotillaError(Code.ResourceExhausted, "ThrottlingException: rate exceeded");

  it("backs off exponentially up to the cap, says so in warning lines, and holds the shared budget back", async () => {
    const clock = fakeClock();
    const log = new PagedLog({ pageSize: 10, end: "same" });
    log.append("line");
    let failures = 5;
    const budget = new RequestBudget({
      ratePerSecond: 100,
      now: clock.now,
      sleep: async (ms) => {
        clock.ms += ms;
      },
    });
    /** How long another follower of the same budget waited for its token during the first back-off. */
    let otherWaited: number | undefined;
    const lines = await readAll(
      options(log, {
        readPage: async (token) => {
          if (failures-- > 0) throw throttled();
          return log.readPage(token);
        },
        follow: { isFinished: async () => true, pollIntervalMs: 1_000, drainGraceMs: 0 },
        maxBackoffMs: 5_000,
        budget,
        now: clock.now,
        sleep: async (ms) => {
          if (otherWaited === undefined) {
            const before = clock.ms;
            await budget.take();
            otherWaited = clock.ms - before;
          }
          await clock.sleep(ms);
        },
      }),
    );
    expect(texts(lines.slice(0, 5))).toEqual(
      [1_000, 2_000, 4_000, 5_000, 5_000].map(
        (ms) =>
          `warning: reading the log failed and will be retried: ThrottlingException: rate exceeded (throttled: backing off ${ms} ms)`,
      ),
    );
    expect(lines.slice(0, 5).every((l) => l.stream === LogStream.SYSTEM)).toBe(true);
    expect(texts(lines.slice(5))).toEqual(["line"]);
    // The reader waited out each back-off (then one poll after the end).
    expect(clock.slept.slice(0, 5)).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
    // Another follower of the budget was held back too (at 100 requests/s it would have waited 10 ms).
    expect(otherWaited).toBeGreaterThanOrEqual(1_000);
  });

  it("starts again from the poll interval once a read went through", async () => {
    const clock = fakeClock();
    const log = new PagedLog({ pageSize: 10, end: "same" });
    log.append("x");
    const plan = ["throttle", "throttle", "ok", "throttle", "ok"];
    const lines = await readAll(
      options(log, {
        readPage: async (token) => {
          if (plan.shift() === "throttle") throw throttled();
          return log.readPage(token);
        },
        follow: { isFinished: async () => true, pollIntervalMs: 100, drainGraceMs: 0 },
        now: clock.now,
        sleep: clock.sleep,
      }),
    );
    expect(texts(lines).map((t) => /backing off (\d+) ms/.exec(t ?? "")?.[1] ?? t)).toEqual(["100", "200", "x", "100"]);
  });

  it("fails with the error when not following: the caller asked for what is there now", async () => {
    const log = new PagedLog({ pageSize: 10, end: "same" });
    await expect(readAll(options(log, { readPage: async () => Promise.reject(throttled()) }))).rejects.toThrow(
      "ThrottlingException: rate exceeded",
    );
  });

  it("turns a transient failure into a warning line and reads on, but ends on a fatal one", async () => {
    const clock = fakeClock();
    const log = new PagedLog({ pageSize: 10, end: "same" });
    log.append("after");
    let calls = 0;
    const follow = { isFinished: async () => true, pollIntervalMs: 1_000, drainGraceMs: 0 };
    const lines = await readAll(
      options(log, {
        readPage: async (token) => {
          if (calls++ === 0) throw new UnavailableError("503 from the log API");
          return log.readPage(token);
        },
        follow,
        now: clock.now,
        sleep: clock.sleep,
      }),
    );
    expect(lines[0]).toMatchObject({
      stream: LogStream.SYSTEM,
      text: "warning: reading the log failed and will be retried: 503 from the log API",
    });
    // The warning's cursor resumes where the reader was: at the head.
    expect(position(lines[0])).toEqual({ token: undefined, skip: 0 });
    expect(texts(lines.slice(1))).toEqual(["after"]);

    const denied = new FlotillaError(Code.PermissionDenied, "not allowed to read logs");
    await expect(readAll(options(log, { readPage: async () => Promise.reject(denied), follow }))).rejects.toBe(denied);
  });
});

describe("followLog when the caller goes away", () => {
  it("ends at once while it waits for the next poll", async () => {
    const log = new PagedLog({ pageSize: 10, end: "same" });
    log.append("one");
    const controller = new AbortController();
    // The default sleep and an hour between polls: only the abort can end this wait.
    const reader = followLog(
      options(log, {
        signal: controller.signal,
        follow: { isFinished: async () => false, pollIntervalMs: 3_600_000, drainGraceMs: 0 },
      }),
    );
    expect(texts((await reader.next()).value ?? [])).toEqual(["one"]);
    const next = reader.next();
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort(new Error("caller went away"));
    await expect(next).resolves.toEqual({ done: true, value: undefined });
    expect(log.reads.length).toBe(2);
  });

  it("ends at once while it waits for the shared budget", async () => {
    const log = new PagedLog({ pageSize: 10, end: "same" });
    log.append("one");
    const budget = new RequestBudget({ ratePerSecond: 1 / 3600 });
    await budget.take();
    const controller = new AbortController();
    const reading = readAll(options(log, { signal: controller.signal, budget }));
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    await expect(reading).resolves.toEqual([]);
    expect(log.reads).toEqual([]);
  });
});

describe("followLog's options", () => {
  const log = new PagedLog({ pageSize: 1, end: "same" });
  const follow = { isFinished: async () => true, pollIntervalMs: 1_000, drainGraceMs: 1_000 };
  it.each([
    [{ follow: { ...follow, pollIntervalMs: 0 } }, /follow\.pollIntervalMs must be a finite number > 0, got 0/],
    [{ follow: { ...follow, drainGraceMs: -1 } }, /follow\.drainGraceMs must be a finite number >= 0, got -1/],
    [{ follow: { ...follow, maxDrainMs: 500 } }, /follow\.maxDrainMs must be a finite number >= 1000, got 500/],
    [{ maxBackoffMs: Number.NaN }, /maxBackoffMs must be a finite number > 0, got NaN/],
  ])("refuses %o", async (extra, message) => {
    await expect(readAll(options(log, extra))).rejects.toThrow(message);
  });
});

describe("classifyReadError", () => {
  it.each([
    [Code.ResourceExhausted, "throttled"],
    [Code.NotFound, "absent"],
    [Code.Unavailable, "retry"],
    [Code.PermissionDenied, "fatal"],
    [Code.InvalidArgument, "fatal"],
  ])("reads code %s as %s", (code, kind) => {
    expect(classifyReadError(new FlotillaError(code, "x")).kind).toBe(kind);
  });
});
