import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { logsOp } from "./fixtures/wire.js";
import { getLogEventsMaxBytes } from "./logs.js";
import { type FakeAws, startFakeAws } from "./server.js";

let fake: FakeAws;
beforeEach(async () => {
  fake = await startFakeAws();
});
afterEach(async () => {
  await fake.close();
});

describe("the CloudWatch Logs fake", () => {
  it("pages with forward tokens that stay put at the end until new events arrive", async () => {
    fake.logs.append("/g", "s", "one");
    fake.logs.append("/g", "s", "two");
    const first = await logsOp(fake.endpoint, "GetLogEvents", {
      logGroupName: "/g",
      logStreamName: "s",
      startFromHead: true,
      limit: 1,
    });
    expect((first.body.events as Array<{ message: string }>).map((e) => e.message)).toEqual(["one"]);
    const second = await logsOp(fake.endpoint, "GetLogEvents", {
      logGroupName: "/g",
      logStreamName: "s",
      nextToken: first.body.nextForwardToken,
    });
    expect((second.body.events as Array<{ message: string }>).map((e) => e.message)).toEqual(["two"]);
    const end = await logsOp(fake.endpoint, "GetLogEvents", {
      logGroupName: "/g",
      logStreamName: "s",
      nextToken: second.body.nextForwardToken,
    });
    expect(end.body.events).toEqual([]);
    expect(end.body.nextForwardToken).toBe(second.body.nextForwardToken);
  });

  it("cuts a page at 1 MB, counting each event's message bytes plus 26, both from the head and from the end", async () => {
    const line = (i: number) => `${String(i).padStart(6, "0")}${"é".repeat(497)}`; // 1000 bytes of UTF-8
    for (let i = 0; i < 2500; i++) fake.logs.append("/g", "s", line(i));
    const perPage = Math.floor(getLogEventsMaxBytes / (1000 + 26));
    const read: string[] = [];
    let token: unknown;
    for (;;) {
      const page = await logsOp(fake.endpoint, "GetLogEvents", {
        logGroupName: "/g",
        logStreamName: "s",
        ...(token === undefined ? { startFromHead: true } : { nextToken: token }),
      });
      const events = (page.body.events as Array<{ message: string }>).map((e) => e.message);
      if (events.length === 0) break;
      expect(events.length).toBeLessThanOrEqual(perPage);
      read.push(...events);
      token = page.body.nextForwardToken;
    }
    expect(read).toEqual(Array.from({ length: 2500 }, (_, i) => line(i)));
    const first = await logsOp(fake.endpoint, "GetLogEvents", {
      logGroupName: "/g",
      logStreamName: "s",
      startFromHead: true,
    });
    expect(first.body.events).toHaveLength(perPage);
    const newest = await logsOp(fake.endpoint, "GetLogEvents", { logGroupName: "/g", logStreamName: "s" });
    const newestMessages = (newest.body.events as Array<{ message: string }>).map((e) => e.message);
    expect(newestMessages).toHaveLength(perPage);
    expect(newestMessages.at(-1)).toBe(line(2499));
  });

  it("returns an event larger than the page on its own", async () => {
    fake.logs.append("/g", "s", "x".repeat(getLogEventsMaxBytes));
    fake.logs.append("/g", "s", "next");
    const page = await logsOp(fake.endpoint, "GetLogEvents", {
      logGroupName: "/g",
      logStreamName: "s",
      startFromHead: true,
    });
    expect((page.body.events as unknown[]).length).toBe(1);
  });

  it("reports a missing stream as ResourceNotFoundException", async () => {
    fake.logs.ensureStream("/g", "s");
    const out = await logsOp(fake.endpoint, "GetLogEvents", { logGroupName: "/g", logStreamName: "other" });
    expect(out.body).toEqual({
      __type: "ResourceNotFoundException",
      message: "The specified log stream does not exist.",
    });
  });

  const read = (nextToken?: unknown) =>
    logsOp(fake.endpoint, "GetLogEvents", {
      logGroupName: "/g",
      logStreamName: "s",
      startFromHead: true,
      ...(nextToken ? { nextToken } : {}),
    });
  const messages = (body: Record<string, unknown>) => (body.events as Array<{ message: string }>).map((e) => e.message);

  it("answers a gap in time with an empty page and a NEW token, then the events after it", async () => {
    fake.logs.setEmptyPagesAcrossGaps(60_000);
    const t = fake.clock.now();
    fake.logs.append("/g", "s", "before", t);
    fake.logs.append("/g", "s", "after", t + 10 * 60_000);
    const first = (await read()).body;
    expect(messages(first)).toEqual(["before"]);
    const gap = (await read(first.nextForwardToken)).body;
    expect(gap.events).toEqual([]);
    expect(gap.nextForwardToken).not.toBe(first.nextForwardToken);
    const after = (await read(gap.nextForwardToken)).body;
    expect(messages(after)).toEqual(["after"]);
    const end = (await read(after.nextForwardToken)).body;
    expect(end.events).toEqual([]);
    expect(end.nextForwardToken).toBe(after.nextForwardToken);
  });

  it("makes an event readable only once the ingestion lag has passed on its clock", async () => {
    fake.logs.setIngestionLag(5_000);
    fake.logs.append("/g", "s", "late");
    const before = (await read()).body;
    expect(before.events).toEqual([]);
    fake.clock.advance(5_000);
    expect(messages((await read(before.nextForwardToken)).body)).toEqual(["late"]);
  });

  it("throttles GetLogEvents above the rate limit with ThrottlingException, per second of its clock", async () => {
    fake.logs.ensureStream("/g", "s");
    fake.logs.setGetLogEventsRateLimit(2);
    expect((await read()).status).toBe(200);
    expect((await read()).status).toBe(200);
    const third = await read();
    expect(third.status).toBe(400);
    expect(third.errorType).toBe("ThrottlingException");
    expect(third.body).toEqual({ __type: "ThrottlingException", message: "Rate exceeded" });
    expect(fake.logs.throttledGetLogEvents).toBe(1);
    fake.clock.advance(1_000);
    expect((await read()).status).toBe(200);
  });

  it("refuses settings no service has", () => {
    expect(() => fake.logs.setEmptyPagesAcrossGaps(-1)).toThrow(RangeError);
    expect(() => fake.logs.setIngestionLag(Number.NaN)).toThrow(RangeError);
    expect(() => fake.logs.setGetLogEventsRateLimit(0)).toThrow(RangeError);
  });
});
