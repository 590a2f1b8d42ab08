import { describe, expect, it } from "vitest";
import { benchLogLatency, type LogLatencyPlan, roundLatencies } from "./log-latency.js";

const plan: LogLatencyPlan = {
  warmupRounds: 1,
  rounds: 1,
  linesPerRound: 4,
  warmupLines: 1,
  intervalMs: 2,
  startDelayMs: 20,
};
const arrival = (seq: number, writtenMicros: number, arrivedMicros: number) => ({
  line: { seq, writtenMicros },
  arrivedMicros,
});

describe("roundLatencies", () => {
  it("subtracts the written stamp from the arrival time and leaves the warm-up lines out", () => {
    const arrivals = [arrival(0, 0, 900), arrival(1, 10, 30), arrival(2, 20, 70), arrival(3, 30, 31)];
    expect(roundLatencies(arrivals, plan, "test")).toEqual([20, 50, 1]);
  });

  it("refuses a round with a lost, repeated or reordered line, naming the side", () => {
    expect(() => roundLatencies([arrival(0, 0, 1), arrival(1, 0, 1), arrival(3, 0, 1)], plan, "pipe")).toThrow(
      /log latency, pipe: .*lost, repeated or reordered/,
    );
    expect(() =>
      roundLatencies([arrival(0, 0, 1), arrival(2, 0, 1), arrival(1, 0, 1), arrival(3, 0, 1)], plan, "pipe"),
    ).toThrow(/reordered/);
  });
});

describe("benchLogLatency", () => {
  // Real processes: the pipe floor and a job run by the local plugin through a PluginHost (needs `tsc -b`).
  it("measures every line of the timed rounds on both sides as positive latencies, none of the warm-up round", async () => {
    const measurement = await benchLogLatency(plan);
    expect(measurement.failure).toBeUndefined();
    expect(measurement.pipeFloor.count).toBe(3);
    expect(measurement.viaHost?.count).toBe(3);
    expect(measurement.pipeFloor.p50).toBeGreaterThan(0);
    expect(measurement.viaHost?.p50).toBeGreaterThan(0);
  }, 60_000);
});
