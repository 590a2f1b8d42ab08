import { describe, expect, it } from "vitest";
import { processCpuMicros, processRssBytes } from "./proc-stat.js";

describe("processCpuMicros", () => {
  it("grows by what the process computes, as Node measures it", () => {
    const before = processCpuMicros(process.pid);
    const nodeBefore = process.cpuUsage();
    // Compute until Node itself counts 100 ms of CPU (however long a crowded machine takes): /proc counts in
    // 10 ms ticks, and both read the kernel's accounting, so half of it is a generous floor.
    while (process.cpuUsage(nodeBefore).user + process.cpuUsage(nodeBefore).system < 100_000) Math.sqrt(Math.random());
    const grown = processCpuMicros(process.pid) - before;
    const nodeGrown = process.cpuUsage(nodeBefore);
    expect(grown).toBeGreaterThanOrEqual(50_000);
    expect(grown).toBeLessThanOrEqual(nodeGrown.user + nodeGrown.system + 20_000);
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
