/**
 * Log latency: the time from a line written in a job to the line shown to
 * the caller (the brief's fourth quality bar). The product side runs the real
 * stack: a PluginHost starts the local provider plugin, runs `log-writer.js`
 * as a job through `runner().runJob`, and follows `jobLogs({ follow: true })`.
 * The floor is the same writer spawned by this process and read directly
 * through its stdout pipe: the least any log path can cost on this machine.
 * Each line carries the wall clock at which it was written; latency is the
 * wall clock at arrival minus that stamp. Rounds alternate floor and product.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { PluginHost } from "@flotilla/host";
import { LogStream } from "@flotilla/protocol";
import { execa } from "execa";
import { quietHost } from "./host-pair.js";
import { parseStampedLine, type StampedLine, wallClockMicros } from "./stamped-line.js";
import { type LatencySummary, summarize } from "./stats.js";

/** The compiled job script; resolved from the package root so it works from src/ (vitest) and dist/. */
export const logWriterEntry = fileURLToPath(new URL("../dist/log-writer.js", import.meta.url));

/** The local provider plugin's built entry point, a sibling package in the workspace. */
export const localPluginEntry = fileURLToPath(new URL("../../plugin-local/dist/main.js", import.meta.url));

/** How many lines, how far apart, and how many alternating rounds. */
export interface LogLatencyPlan {
  /** Untimed rounds first, so both readers' code is optimised before anything counts (the first job's early lines run cold). */
  readonly warmupRounds: number;
  /** Timed rounds; each runs the floor once, then the job through the plugin once. */
  readonly rounds: number;
  /** Lines each writer prints per round, warm-up lines included. */
  readonly linesPerRound: number;
  /** Leading lines of each round left out of the samples (the reader may still be attaching). */
  readonly warmupLines: number;
  /** Pause between lines, ms: spaced so each line travels alone, as a log line usually does. */
  readonly intervalMs: number;
  /** Pause before the first line, ms, so the caller is following before anything is written. */
  readonly startDelayMs: number;
}

/** The plan `npm run bench` uses: 200 measured lines on each side, about 12 s in all. */
export const fullLogLatencyPlan: LogLatencyPlan = {
  warmupRounds: 1,
  rounds: 2,
  linesPerRound: 105,
  warmupLines: 5,
  intervalMs: 15,
  startDelayMs: 100,
};
/** The `--quick` plan. */
export const quickLogLatencyPlan: LogLatencyPlan = {
  warmupRounds: 0,
  rounds: 1,
  linesPerRound: 12,
  warmupLines: 2,
  intervalMs: 5,
  startDelayMs: 50,
};

/** What the log-latency section measured; latencies in µs. */
export interface LogLatencyMeasurement {
  /** Line written in the job → line received from `jobLogs` through host and local plugin; undefined if it failed. */
  readonly viaHost: LatencySummary | undefined;
  /** Line written → line read by the parent directly through the child's stdout pipe. */
  readonly pipeFloor: LatencySummary;
  /** Why the host side could not be measured. */
  readonly failure: string | undefined;
}

function writerArgs(plan: LogLatencyPlan): string[] {
  return [logWriterEntry, String(plan.linesPerRound), String(plan.intervalMs), String(plan.startDelayMs)];
}

/** Latencies of one round's lines (warm-up left out); throws unless every line arrived exactly once, in order. */
export function roundLatencies(
  arrivals: readonly { line: StampedLine; arrivedMicros: number }[],
  plan: LogLatencyPlan,
  side: string,
): number[] {
  const seqs = arrivals.map((arrival) => arrival.line.seq);
  const expected = Array.from({ length: plan.linesPerRound }, (_, i) => i);
  if (seqs.join(",") !== expected.join(",")) {
    throw new Error(
      `log latency, ${side}: expected lines 0..${plan.linesPerRound - 1} once each in order, got ${seqs.length} lines (${seqs.slice(0, 20).join(",")}${seqs.length > 20 ? ",…" : ""}); lines were lost, repeated or reordered`,
    );
  }
  return arrivals
    .filter((arrival) => arrival.line.seq >= plan.warmupLines)
    .map((arrival) => arrival.arrivedMicros - arrival.line.writtenMicros);
}

/** One floor round: spawn the writer as the local plugin spawns jobs and read its stdout pipe directly. */
async function pipeRound(plan: LogLatencyPlan): Promise<number[]> {
  const child = execa(process.execPath, writerArgs(plan), {
    detached: true,
    reject: false,
    buffer: false,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    stripFinalNewline: false,
  });
  const arrivals: { line: StampedLine; arrivedMicros: number }[] = [];
  let pending = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    const arrivedMicros = wallClockMicros();
    const parts = (pending + chunk).split("\n");
    pending = parts.pop() ?? "";
    for (const text of parts) {
      const line = parseStampedLine(text);
      if (line) arrivals.push({ line, arrivedMicros });
    }
  });
  const result = await child;
  if (result.exitCode !== 0) {
    throw new Error(`log latency, pipe floor: log-writer exited with ${result.exitCode ?? result.signal} instead of 0`);
  }
  return roundLatencies(arrivals, plan, "pipe floor");
}

/** One product round: the writer as a local-provider job, followed through `jobLogs`. */
async function hostRound(host: PluginHost, plan: LogLatencyPlan): Promise<number[]> {
  const runner = host.provider("local").runner();
  if (!runner) throw new Error("log latency: the local plugin does not advertise IaCProviderRunnerService");
  const { handle } = await runner.runJob({
    spec: { name: "bench-log-latency", command: [process.execPath, ...writerArgs(plan)] },
  });
  if (!handle) throw new Error("log latency: the local plugin accepted the job but returned no handle");
  const arrivals: { line: StampedLine; arrivedMicros: number }[] = [];
  for await (const response of runner.jobLogs({ handle, follow: true })) {
    const arrivedMicros = wallClockMicros();
    for (const logLine of response.lines) {
      if (logLine.stream !== LogStream.STDOUT) continue;
      const line = parseStampedLine(logLine.text);
      if (line) arrivals.push({ line, arrivedMicros });
    }
  }
  return roundLatencies(arrivals, plan, "host → local plugin job");
}

/** Starts the real local provider plugin through a PluginHost (AutoMTLS on, as by default). */
async function startLocalPlugin(): Promise<PluginHost> {
  if (!existsSync(localPluginEntry)) {
    throw new Error(
      `the local provider plugin is not built at ${localPluginEntry}; run \`tsc -b\` from the repository root (npm run bench does)`,
    );
  }
  const host = quietHost();
  try {
    await host.start([
      { name: "local", command: process.execPath, args: [localPluginEntry], config: {}, restart: { enabled: false } },
    ]);
  } catch (error) {
    await host.stop();
    throw error;
  }
  return host;
}

/** Runs the log-latency section under `plan`. */
export async function benchLogLatency(plan: LogLatencyPlan): Promise<LogLatencyMeasurement> {
  const floorSamples: number[] = [];
  const hostSamples: number[] = [];
  let host: PluginHost | undefined;
  let failure: string | undefined;
  try {
    host = await startLocalPlugin();
  } catch (error) {
    failure = (error as Error).message;
  }
  try {
    for (let round = 0; round < plan.warmupRounds + plan.rounds; round++) {
      const timed = round >= plan.warmupRounds;
      const floorRound = await pipeRound(plan);
      if (timed) floorSamples.push(...floorRound);
      if (host && failure === undefined) {
        try {
          const productRound = await hostRound(host, plan);
          if (timed) hostSamples.push(...productRound);
        } catch (error) {
          failure = (error as Error).message;
        }
      }
    }
  } finally {
    await host?.stop();
  }
  return {
    viaHost: failure === undefined ? summarize(hostSamples) : undefined,
    pipeFloor: summarize(floorSamples),
    failure,
  };
}
