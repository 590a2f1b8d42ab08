/**
 * The plugin's side of durable local jobs (config `durable_jobs`): starting
 * a job under its own supervisor process (job-supervisor.ts), and cancelling
 * one by signalling that supervisor, whichever plugin process started it.
 *
 * Why a supervisor: a job that must outlive the plugin (and the host that
 * started the plugin: `flotilla run --detach`, a host killed and restarted)
 * cannot be the plugin's child, whose death takes its jobs down with it by
 * design (no orphans). The supervisor is the job's parent instead, in a
 * session of its own; it records the job where any later plugin process
 * reads it. What it costs: one more Node process per running durable job
 * (about 40 MB resident), started in about a tenth of a second.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FailedPreconditionError } from "@flotilla/protocol";
import { STORE_FILE_MODE } from "./job-store.js";
import type { LocalJobLaunch } from "./local-job.js";

/** What a supervisor is told on stdin: where to record the job, and what to run. */
export interface SupervisorLaunch {
  readonly stateDir: string;
  readonly jobId: string;
  readonly launch: LocalJobLaunch;
  readonly killGraceMs: number;
  readonly maxLogLines: number;
}

/** How a supervisor is started: the command before its job id (default: this Node, with the plugin's Node options). */
export function defaultSupervisorCommand(): string[] {
  return [process.execPath, ...process.execArgv, fileURLToPath(new URL("./job-supervisor.js", import.meta.url))];
}

/** How long a supervisor may take to record its job before RunJob fails. */
export const SUPERVISOR_START_TIMEOUT_MS = 10_000;

/**
 * Starts the job under a new supervisor and resolves once the job's record exists; rejects, naming the job and
 * what the supervisor said, when it could not start. `jobDir` is the job's record directory (for the
 * supervisor's own log).
 */
export async function startSupervisedJob(
  message: SupervisorLaunch,
  jobDir: string,
  command: readonly string[] = defaultSupervisorCommand(),
): Promise<void> {
  const [file, ...args] = command as [string, ...string[]];
  // Its own session (detached), no terminal, only PATH: the job's environment travels in the launch, not here.
  const logFd = openSync(join(jobDir, "supervisor.log"), "a", STORE_FILE_MODE);
  try {
    const child = spawn(file, [...args, message.jobId], {
      detached: true,
      stdio: ["pipe", "pipe", logFd],
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    });
    const started = new Promise<void>((resolve, reject) => {
      let said = "";
      const timer = setTimeout(
        () => fail(`did not start within ${SUPERVISOR_START_TIMEOUT_MS / 1000} s`),
        SUPERVISOR_START_TIMEOUT_MS,
      );
      function fail(why: string): void {
        clearTimeout(timer);
        child.kill("SIGKILL");
        reject(new Error(`local provider: the supervisor of job ${message.jobId} ${why}${supervisorLogTail(jobDir)}`));
      }
      child.once("error", (error) => fail(`could not be started (${error.message})`));
      child.once("exit", (code, signal) => fail(`exited before starting the job (${signal ?? `exit code ${code}`})`));
      child.stdout?.setEncoding("utf8");
      child.stdout?.on("data", (text: string) => {
        said += text;
        if (said.includes("started\n")) {
          clearTimeout(timer);
          child.removeAllListeners("exit");
          resolve();
        }
      });
    });
    // The launch holds resolved secrets: it goes through the pipe, never the command line or a file.
    child.stdin?.end(JSON.stringify(message));
    try {
      await started;
    } finally {
      // The supervisor lives on alone: this process neither waits for it nor keeps its pipes.
      child.stdout?.destroy();
      child.unref();
    }
  } finally {
    closeSync(logFd);
  }
}

/**
 * Asks a durable job's supervisor to cancel the job: the reason in `cancel.json`, then SIGTERM. Checks first
 * (where /proc tells) that the pid still belongs to that job's supervisor, so a reused pid is never signalled.
 */
export function cancelSupervisedJob(jobDir: string, jobId: string, supervisorPid: number, reason: string): void {
  if (!isSupervisorOf(supervisorPid, jobId)) {
    throw new FailedPreconditionError(
      `job ${jobId}: its supervisor (pid ${supervisorPid}) is gone, so it cannot be cancelled; its record says how far it got`,
    );
  }
  writeFileSync(join(jobDir, "cancel.json"), JSON.stringify({ reason }), { mode: STORE_FILE_MODE });
  try {
    process.kill(supervisorPid, "SIGTERM");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

/** True when `pid` is the supervisor of `jobId` (or, without /proc, when it exists at all). */
function isSupervisorOf(pid: number, jobId: string): boolean {
  const cmdline = `/proc/${pid}/cmdline`;
  if (!existsSync("/proc/self/cmdline")) {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
  try {
    const argv = readFileSync(cmdline, "utf8").split("\0");
    return argv.includes(jobId) && argv.some((arg) => arg.endsWith("job-supervisor.js"));
  } catch {
    return false;
  }
}

/** The last lines of a supervisor's own log, for an error message. */
function supervisorLogTail(jobDir: string): string {
  try {
    const lines = readFileSync(join(jobDir, "supervisor.log"), "utf8").trimEnd().split("\n").slice(-5);
    return lines.length && lines[0]
      ? `; its log (${join(jobDir, "supervisor.log")}) ends:\n  | ${lines.join("\n  | ")}`
      : "";
  } catch {
    return "";
  }
}
