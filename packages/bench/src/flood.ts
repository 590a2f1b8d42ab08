/**
 * Log flood: a job writes numbered lines as fast as it can (200 MB by
 * default), `flotilla run` (the real CLI binary, with its built-in local
 * provider plugin) follows it, and the bench reads the CLI's stdout. Then
 * `flotilla jobs logs` prints the same job's record. For each it reports how
 * many lines arrived (every one must, in order), the peak resident memory of
 * the CLI and of the plugin (VmHWM from /proc, sampled until each exits), and
 * the wall time. The brief's bar: a follower gets every line, in order, in
 * bounded memory, whatever the job writes (issue 12 goal: CLI and plugin
 * each under 150 MB RSS for a 200 MB flood).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The built CLI, a sibling package in the workspace. */
export const cliEntry = fileURLToPath(new URL("../../cli/dist/main.js", import.meta.url));

/** How big a flood. */
export interface FloodPlan {
  /** Lines the job writes. */
  readonly lines: number;
  /** Bytes per line, newline included (the line is its zero-padded number). */
  readonly lineBytes: number;
}

/** The flood: 2 million lines of 100 bytes, 200 MB. */
export const fullFloodPlan: FloodPlan = { lines: 2_000_000, lineBytes: 100 };
/** The `--quick` plan. */
export const quickFloodPlan: FloodPlan = { lines: 20_000, lineBytes: 100 };

/** One CLI invocation of the flood. */
export interface FloodRun {
  /** What ran, e.g. "flotilla run". */
  readonly what: string;
  /** The CLI's exit code. */
  readonly exitCode: number | null;
  /** Lines that reached the CLI's stdout. */
  readonly linesDelivered: number;
  /** The first line that was not the next number, if any (a loss or a repeat). */
  readonly firstGap: string | undefined;
  /** Peak resident memory of the CLI process, bytes. */
  readonly cliPeakRssBytes: number;
  /**
   * Peak resident memory of the provider plugin process, bytes; 0 when the invocation started none
   * (`flotilla jobs logs` reads a finished job's log from the job journal).
   */
  readonly pluginPeakRssBytes: number;
  /** Spawn → exit of the CLI, ms. */
  readonly wallMs: number;
  /** The last lines of the CLI's stderr. */
  readonly stderrTail: string;
}

/** What the flood section measured. */
export interface FloodMeasurement {
  readonly plan: FloodPlan;
  /** `flotilla run` following the job. */
  readonly run: FloodRun;
  /** `flotilla jobs logs` on the finished job's record; undefined if the run gave no handle. */
  readonly logs: FloodRun | undefined;
}

/** Runs the flood through `flotilla run`, then `flotilla jobs logs` on its record. */
export async function benchFlood(plan: FloodPlan): Promise<FloodMeasurement> {
  const home = mkdtempSync(join(tmpdir(), "flotilla-flood-"));
  try {
    const job = ["seq", "-f", `%0${plan.lineBytes - 1}.0f`, "1", String(plan.lines)];
    const run = await runCli("flotilla run", ["run", "--verbose", "--", ...job], home, plan);
    const handle = /job (local:\S+) started/.exec(run.stderrTail)?.[1];
    const logs = handle ? await runCli("flotilla jobs logs", ["jobs", "logs", handle], home, plan) : undefined;
    return { plan, run, logs };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

async function runCli(what: string, args: string[], home: string, plan: FloodPlan): Promise<FloodRun> {
  const started = performance.now();
  const child = spawn(process.execPath, [cliEntry, ...args], {
    cwd: home,
    // A private HOME: the local provider keeps its job records under it, and no flotilla.yaml is found.
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, XDG_STATE_HOME: join(home, "state") },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const peaks = new PeakSampler(child);
  let expected = 1;
  let firstGap: string | undefined;
  let carry = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    const text = carry + chunk;
    let start = 0;
    for (let newline = text.indexOf("\n"); newline !== -1; newline = text.indexOf("\n", start)) {
      const value = Number(text.slice(start, newline));
      if (value !== expected && firstGap === undefined)
        firstGap = `line ${expected} was ${JSON.stringify(text.slice(start, Math.min(newline, start + 120)))}`;
      expected += 1;
      start = newline + 1;
    }
    carry = text.slice(start);
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const exitCode = await new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  peaks.stop();
  const linesDelivered = expected - 1;
  if (firstGap === undefined && linesDelivered !== plan.lines)
    firstGap = `${linesDelivered} of ${plan.lines} lines arrived`;
  return {
    what,
    exitCode,
    linesDelivered,
    firstGap,
    cliPeakRssBytes: peaks.cli,
    pluginPeakRssBytes: peaks.plugin,
    wallMs: performance.now() - started,
    stderrTail: stderr,
  };
}

/** Samples VmHWM (peak RSS so far) of the CLI and of its plugin child every 50 ms while they live. */
class PeakSampler {
  cli = 0;
  plugin = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(child: ChildProcess) {
    const sample = () => {
      const pid = child.pid;
      if (pid === undefined) return;
      this.cli = Math.max(this.cli, peakRss(pid));
      for (const childPid of childrenOf(pid)) {
        if (readProc(`/proc/${childPid}/cmdline`).includes("plugin-local"))
          this.plugin = Math.max(this.plugin, peakRss(childPid));
      }
    };
    this.#timer = setInterval(sample, 50);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

function readProc(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return ""; // The process is gone.
  }
}

/** VmHWM of `pid` in bytes: the highest resident set size it has had; 0 once it is gone. */
function peakRss(pid: number): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readProc(`/proc/${pid}/status`));
  return match ? Number(match[1]) * 1024 : 0;
}

/** Direct children of `pid` (Linux: /proc/PID/task/TID/children of each thread). */
function childrenOf(pid: number): number[] {
  return readProc(`/proc/${pid}/task/${pid}/children`)
    .split(" ")
    .filter((field) => field !== "")
    .map(Number);
}
