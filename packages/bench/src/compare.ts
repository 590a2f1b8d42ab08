/**
 * Times several {@link UnaryPair}s against each other in one run. Each pair's
 * work is split into rounds and the rounds are interleaved (pair A, B, C, A,
 * B, C, ...), so that load from other processes on a shared machine lands on
 * every pair alike and the ratios between them stay meaningful.
 */
import { processCpuMicros } from "./proc-stat.js";
import { type LatencySummary, summarize } from "./stats.js";
import type { UnaryPair } from "./unary-pair.js";

/** How much work a comparison does; see {@link fullPlan} and {@link quickPlan}. */
export interface ComparisonPlan {
  /** Untimed calls per pair before anything is measured, so V8 has optimised the call path. */
  readonly warmupCalls: number;
  /** Number of interleaved latency rounds; many short rounds spread load spikes evenly over the pairs. */
  readonly latencyRounds: number;
  /** Sequential timed calls per pair per latency round (latency and CPU per call). */
  readonly latencyCallsPerRound: number;
  /** Number of interleaved throughput rounds. */
  readonly throughputRounds: number;
  /** Wall time per pair per throughput round per concurrency level. */
  readonly throughputMsPerRound: number;
  /** Concurrency levels at which throughput is measured. */
  readonly concurrencies: readonly number[];
}

/** The plan `npm run bench` uses: about four seconds per pair on an idle machine. */
export const fullPlan: ComparisonPlan = {
  warmupCalls: 1000,
  latencyRounds: 20,
  latencyCallsPerRound: 100,
  throughputRounds: 5,
  throughputMsPerRound: 250,
  concurrencies: [1, 64],
};

/** A smoke-test plan (`--quick`, and the unit test): exercises every path in well under a second per pair. */
export const quickPlan: ComparisonPlan = {
  warmupCalls: 20,
  latencyRounds: 2,
  latencyCallsPerRound: 15,
  throughputRounds: 1,
  throughputMsPerRound: 40,
  concurrencies: [1, 64],
};

/** What one pair measured. */
export interface PairMeasurement {
  /** The pair's label. */
  readonly name: string;
  /** Latency of sequential calls (concurrency 1), µs. */
  readonly latency: LatencySummary;
  /** CPU time the client process spent per sequential call, µs. */
  readonly clientCpuMicrosPerCall: number;
  /** CPU time the server process spent per sequential call, µs (10 ms /proc resolution, spread over all calls). */
  readonly serverCpuMicrosPerCall: number;
  /** Calls per second at each concurrency level of the plan. */
  readonly callsPerSecond: ReadonlyMap<number, number>;
}

/** Measures every pair under `plan`, interleaving rounds; results are in the order of `pairs`. */
export async function comparePairs(pairs: readonly UnaryPair[], plan: ComparisonPlan): Promise<PairMeasurement[]> {
  const state = pairs.map(() => ({
    samples: [] as number[],
    clientCpu: 0,
    serverCpu: 0,
    calls: new Map<number, number>(),
    seconds: new Map<number, number>(),
  }));
  for (const pair of pairs) for (let i = 0; i < plan.warmupCalls; i++) await pair.call();
  for (let round = 0; round < plan.latencyRounds; round++) {
    for (const [index, pair] of pairs.entries()) {
      const s = state[index] as (typeof state)[number];
      const cpuBefore = process.cpuUsage();
      const serverBefore = processCpuMicros(pair.serverPid);
      for (let i = 0; i < plan.latencyCallsPerRound; i++) {
        const start = process.hrtime.bigint();
        await pair.call();
        s.samples.push(Number(process.hrtime.bigint() - start) / 1000);
      }
      const cpu = process.cpuUsage(cpuBefore);
      s.clientCpu += cpu.user + cpu.system;
      s.serverCpu += processCpuMicros(pair.serverPid) - serverBefore;
    }
  }
  for (let round = 0; round < plan.throughputRounds; round++) {
    for (const [index, pair] of pairs.entries()) {
      const s = state[index] as (typeof state)[number];
      for (const concurrency of plan.concurrencies) {
        const start = process.hrtime.bigint();
        const calls = await callFor(pair, concurrency, plan.throughputMsPerRound);
        s.calls.set(concurrency, (s.calls.get(concurrency) ?? 0) + calls);
        s.seconds.set(concurrency, (s.seconds.get(concurrency) ?? 0) + Number(process.hrtime.bigint() - start) / 1e9);
      }
    }
  }
  return pairs.map((pair, index) => {
    const s = state[index] as (typeof state)[number];
    const callsPerSecond = new Map(plan.concurrencies.map((c) => [c, (s.calls.get(c) ?? 0) / (s.seconds.get(c) ?? 1)]));
    return {
      name: pair.name,
      latency: summarize(s.samples),
      clientCpuMicrosPerCall: s.clientCpu / s.samples.length,
      serverCpuMicrosPerCall: s.serverCpu / s.samples.length,
      callsPerSecond,
    };
  });
}

/** Runs `concurrency` callers in a loop until `durationMs` has passed; returns the calls completed. */
async function callFor(pair: UnaryPair, concurrency: number, durationMs: number): Promise<number> {
  const deadline = performance.now() + durationMs;
  let calls = 0;
  const caller = async () => {
    while (performance.now() < deadline) {
      await pair.call();
      calls++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  return calls;
}
