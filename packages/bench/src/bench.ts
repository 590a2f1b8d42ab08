/**
 * The whole benchmark as one function, so the CLI (main.ts) prints it and a
 * test runs it with a tiny plan to keep it from rotting.
 */
import {
  benchCliRoundTrip,
  type CliRoundTripMeasurement,
  fullCliRoundTripPlan,
  quickCliRoundTripPlan,
} from "./cli-round-trip.js";
import { type ComparisonPlan, fullPlan, quickPlan } from "./compare.js";
import { benchFlood, type FloodMeasurement, fullFloodPlan, quickFloodPlan } from "./flood.js";
import { hostPluginPairName, openHostPluginPair } from "./host-pair.js";
import {
  benchHostTracking,
  fullHostTrackingPlan,
  type HostTrackingMeasurement,
  quickHostTrackingPlan,
} from "./host-tracking.js";
import {
  benchLogLatency,
  fullLogLatencyPlan,
  type LogLatencyMeasurement,
  type LogLatencyPlan,
  quickLogLatencyPlan,
} from "./log-latency.js";
import { benchReadyTime, fullReadyPlan, quickReadyPlan, type ReadyMeasurement, type ReadyPlan } from "./ready-time.js";
import type { TransportRow } from "./report.js";
import {
  benchStatusCalls,
  fullStatusCallsPlan,
  quickStatusCallsPlan,
  type StatusCallsMeasurement,
} from "./status-calls.js";
import { benchTransports, defaultPairs, type FailedPair, type PairFactory, studyPairs } from "./transport-bench.js";

/** What to run. */
export interface BenchOptions {
  /** A smoke run with tiny iteration counts; the figures are not meaningful. */
  readonly quick: boolean;
  /** Also run the connect-node study pairs (docs/transport.md). */
  readonly study: boolean;
  /** Told when each section starts, so a long run shows where it is (the CLI prints it on stderr). */
  readonly onSection?: (section: string) => void;
}

/** Everything one bench run measured. */
export interface BenchReport {
  /** When the run started, ISO 8601. */
  readonly startedAt: string;
  /** The plan the transport section ran with. */
  readonly plan: ComparisonPlan;
  /** The plan the start-up section ran with. */
  readonly readyPlan: ReadyPlan;
  /** Host→plugin unary calls; row 0 is the raw HTTP/2 floor. */
  readonly transport: readonly TransportRow[];
  /** Pairs that could not be opened (e.g. a plugin that failed to start), with the reason. */
  readonly failedPairs: readonly FailedPair[];
  /** Plugin start-up and idle memory. */
  readonly ready: ReadyMeasurement;
  /** ECS DescribeTasks calls per tracked job, counted at the AWS fake. */
  readonly statusCalls: StatusCallsMeasurement;
  /** The plan the log-latency section ran with. */
  readonly logLatencyPlan: LogLatencyPlan;
  /** Line written in a job → line received by the caller, against a bare pipe. */
  readonly logLatency: LogLatencyMeasurement;
  /** A 200 MB log flood through `flotilla run` and `flotilla jobs logs`: lines delivered, peak RSS, wall time. */
  readonly flood: FloodMeasurement;
  /** `flotilla run -- true` end to end against `node -e 0`. */
  readonly cliRoundTrip: CliRoundTripMeasurement;
  /** The host following many jobs: provider status calls and heap per tracked job. */
  readonly hostTracking: HostTrackingMeasurement;
}

/** The real host calling a real SDK plugin, with and without AutoMTLS. */
export const hostPluginPairs: readonly PairFactory[] = [true, false].map((autoMtls) => ({
  name: hostPluginPairName(autoMtls),
  open: () => openHostPluginPair(autoMtls),
}));

/** Runs the benchmark. */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const plan = options.quick ? quickPlan : fullPlan;
  const readyPlan = options.quick ? quickReadyPlan : fullReadyPlan;
  const pairs = [...hostPluginPairs, ...defaultPairs, ...(options.study ? studyPairs : [])];
  options.onSection?.(`host→plugin unary calls (${pairs.length + 1} pairs)`);
  const { rows: transport, failed: failedPairs } = await benchTransports(pairs, plan);
  options.onSection?.("plugin start-up and idle memory");
  const ready = await benchReadyTime(readyPlan);
  options.onSection?.("AWS status calls per tracked job");
  const statusCalls = await benchStatusCalls(options.quick ? quickStatusCallsPlan : fullStatusCallsPlan);
  options.onSection?.("log line latency, job → caller");
  const logLatencyPlan = options.quick ? quickLogLatencyPlan : fullLogLatencyPlan;
  const logLatency = await benchLogLatency(logLatencyPlan);
  const floodPlan = options.quick ? quickFloodPlan : fullFloodPlan;
  options.onSection?.(
    `log flood, ${(floodPlan.lines * floodPlan.lineBytes) / 1e6} MB through flotilla run and jobs logs`,
  );
  const flood = await benchFlood(floodPlan);
  options.onSection?.("the host following many jobs: status calls and heap per tracked job");
  const hostTracking = await benchHostTracking(options.quick ? quickHostTrackingPlan : fullHostTrackingPlan);
  options.onSection?.("flotilla run -- true, end to end");
  const cliRoundTrip = await benchCliRoundTrip(options.quick ? quickCliRoundTripPlan : fullCliRoundTripPlan);
  return {
    startedAt,
    plan,
    readyPlan,
    transport,
    failedPairs,
    ready,
    statusCalls,
    logLatencyPlan,
    logLatency,
    flood,
    cliRoundTrip,
    hostTracking,
  };
}
