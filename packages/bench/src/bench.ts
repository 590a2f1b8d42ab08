/**
 * The whole benchmark as one function, so the CLI (main.ts) prints it and a
 * test runs it with a tiny plan to keep it from rotting.
 */
import { type ComparisonPlan, fullPlan, quickPlan } from "./compare.js";
import type { TransportRow } from "./report.js";
import { benchTransports, defaultPairs, studyPairs } from "./transport-bench.js";

/** What to run. */
export interface BenchOptions {
  /** A smoke run with tiny iteration counts; the figures are not meaningful. */
  readonly quick: boolean;
  /** Also run the connect-node study pairs (docs/transport.md). */
  readonly study: boolean;
}

/** Everything one bench run measured. */
export interface BenchReport {
  /** When the run started, ISO 8601. */
  readonly startedAt: string;
  /** The plan the transport section ran with. */
  readonly plan: ComparisonPlan;
  /** Host→plugin unary calls; row 0 is the raw HTTP/2 floor. */
  readonly transport: readonly TransportRow[];
}

/** Runs the benchmark. */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const plan = options.quick ? quickPlan : fullPlan;
  const transport = await benchTransports(options.study ? [...defaultPairs, ...studyPairs] : defaultPairs, plan);
  return { startedAt, plan, transport };
}
