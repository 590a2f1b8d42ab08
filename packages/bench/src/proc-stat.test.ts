import { describe, expect, it } from "vitest";
import { processCpuMicros, processRssBytes } from "./proc-stat.js";

describe("processCpuMicros", () => {
  it("grows while the process computes", () => {
    const before = processCpuMicros(process.pid);
    const until = performance.now() + 150;
    let spin = 0;
    while (performance.now() < until) spin++;
    expect(spin).toBeGreaterThan(0);
    // 150 ms of busy looping is at least 10 ms of CPU even on a crowded machine (10 ms /proc ticks).
    expect(processCpuMicros(process.pid)).toBeGreaterThan(before);
  });
});

describe("processRssBytes", () => {
  it("agrees with Node's own reading of this process", () => {
    const fromProc = processRssBytes(process.pid);
    const fromNode = process.memoryUsage().rss;
    expect(fromProc).toBeGreaterThan(fromNode * 0.5);
    expect(fromProc).toBeLessThan(fromNode * 2);
  });

  it("names the process when it does not exist", () => {
    expect(() => processRssBytes(2 ** 22 + 1)).toThrow(/4194305/);
  });
});
