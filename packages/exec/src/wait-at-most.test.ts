import { describe, expect, it } from "vitest";
import { drainLogs, waitAtMost } from "./wait-at-most.js";

describe("waitAtMost", () => {
  it("is true for a promise that settles in time, either way", async () => {
    expect(await waitAtMost(Promise.resolve(1), 1000)).toBe(true);
    expect(await waitAtMost(Promise.reject(new Error("x")), 1000)).toBe(true);
  });

  it("is false for one that does not", async () => {
    expect(await waitAtMost(new Promise(() => {}), 20)).toBe(false);
  });
});

describe("drainLogs", () => {
  it("returns quietly once the log has drained, without stopping the reader", async () => {
    const stop = new AbortController();
    const lines: unknown[] = [];
    await drainLogs(Promise.resolve(), stop, "Pod x", (line) => lines.push(line));
    await drainLogs(undefined, stop, "Pod x", (line) => lines.push(line));
    expect(stop.signal.aborted).toBe(false);
    expect(lines).toEqual([]);
  });
  // The path where the log never ends (abort + warning after LOG_DRAIN_TIMEOUT_MS) is covered through
  // a real runner in provider-runner.test.ts ("stops reading a log stream that stays open …").
});
