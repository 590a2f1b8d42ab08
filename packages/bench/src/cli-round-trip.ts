/**
 * `flotilla run -- true` end to end, as a user types it (the `flotilla` bin, the built-in local provider,
 * the job journal), against `node -e 0` started the same way: issue 17's fourth goal is the ratio, ≤ 10×.
 * Runs are interleaved, after untimed warm-up runs of each (which also fill Node's compiled-module cache,
 * as a user's earlier commands would), in one private HOME.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type LatencySummary, summarize } from "./stats.js";

/** The `flotilla` command as installed (the bin, not dist/main.js: the bin turns the module cache on). */
const cliBin = fileURLToPath(new URL("../../cli/bin/flotilla.js", import.meta.url));

/** How many runs of each. */
export interface CliRoundTripPlan {
  readonly warmupRuns: number;
  readonly runs: number;
}

export const fullCliRoundTripPlan: CliRoundTripPlan = { warmupRuns: 2, runs: 7 };
export const quickCliRoundTripPlan: CliRoundTripPlan = { warmupRuns: 0, runs: 1 };

/** Wall times, milliseconds. */
export interface CliRoundTripMeasurement {
  readonly flotillaRunTrue: LatencySummary;
  readonly bareNode: LatencySummary;
}

export async function benchCliRoundTrip(plan: CliRoundTripPlan): Promise<CliRoundTripMeasurement> {
  const home = mkdtempSync(join(tmpdir(), "flotilla-round-trip-"));
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home };
  const time = async (args: string[]): Promise<number> => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd: home, env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    if (code !== 0)
      throw new Error(`${args.join(" ")} exited with ${code}; the timing would be meaningless:\n${stderr}`);
    return performance.now() - started;
  };
  const flotilla = () => time([cliBin, "run", "--", "true"]);
  const bare = () => time(["-e", "0"]);
  try {
    for (let i = 0; i < plan.warmupRuns; i++) {
      await flotilla();
      await bare();
    }
    const runs: number[] = [];
    const bareRuns: number[] = [];
    for (let i = 0; i < plan.runs; i++) {
      runs.push(await flotilla());
      bareRuns.push(await bare());
    }
    return { flotillaRunTrue: summarize(runs), bareNode: summarize(bareRuns) };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
