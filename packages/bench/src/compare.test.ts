import { describe, expect, it } from "vitest";
import { type ComparisonPlan, comparePairs } from "./compare.js";
import type { UnaryPair } from "./unary-pair.js";

// In-process pairs: the "server" is this process, so its CPU reading is real.
function immediatePair(name: string, log: string[]): UnaryPair {
  return {
    name,
    serverPid: process.pid,
    call: () =>
      new Promise<void>((resolve) => {
        log.push(name);
        setImmediate(resolve);
      }),
    close: async () => {},
  };
}

const plan: ComparisonPlan = {
  warmupCalls: 2,
  latencyRounds: 3,
  latencyCallsPerRound: 4,
  throughputRounds: 2,
  throughputMsPerRound: 20,
  concurrencies: [1, 8],
};

describe("comparePairs", () => {
  it("interleaves rounds and reports every pair's samples, CPU and throughput", async () => {
    const log: string[] = [];
    const [a, b] = await comparePairs([immediatePair("a", log), immediatePair("b", log)], plan);
    for (const m of [a, b]) {
      expect(m?.latency.count).toBe(12);
      expect(m?.latency.p50).toBeGreaterThan(0);
      expect([...(m?.callsPerSecond.keys() ?? [])]).toEqual([1, 8]);
      for (const rate of m?.callsPerSecond.values() ?? []) expect(rate).toBeGreaterThan(0);
    }
    // After warm-up (2 + 2 calls), latency rounds alternate a×4, b×4, a×4, ...
    expect(log.slice(4, 20).join("")).toBe("aaaabbbbaaaabbbb");
  });
});
