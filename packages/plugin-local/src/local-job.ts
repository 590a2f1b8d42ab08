/**
 * One job of the local provider: a process group on this machine, its
 * life-cycle state, and its log.
 */
import { type ChildProcess, spawn } from "node:child_process";
import type { Readable } from "node:stream";
import {
  DEFAULT_OUTPUT_DRAIN_MS,
  drainStreams,
  LineSplitter,
  type ProcessGroupRegistry,
  setLongTimeout,
  signalProcessGroup,
  stopGroupLeftovers,
  terminateProcessGroup,
} from "@flotilla/process";
import { JobState, LogStream } from "@flotilla/protocol";
import { JobLog } from "./job-log.js";
import type { LogFile } from "./log-file.js";

/** What a local job runs, already validated and with secrets resolved. */
export interface LocalJobLaunch {
  /** The program to execute (argv[0]). */
  file: string;
  /** Its arguments. */
  args: string[];
  /** The complete environment of the process (nothing else is inherited). */
  env: Record<string, string>;
  /** Working directory; undefined keeps the plugin's. */
  cwd: string | undefined;
  /** Milliseconds after which the job is stopped and FAILED; undefined for none. */
  timeoutMs: number | undefined;
}

/** Told about every state change of a job, e.g. to persist it. */
export interface LocalJobObserver {
  /** The job's state changed (started, finished). */
  state(snapshot: LocalJobSnapshot): void;
}

/** Tuning for how a job is stopped, and who watches it. */
export interface LocalJobOptions {
  /** Kills the job's process group should the plugin die without an exit hook. */
  watchdog?: ProcessGroupRegistry;
  /** Receives the job's state changes. */
  observer?: LocalJobObserver;
  /** Where every line of the job's log is kept; without it, lines beyond the memory window are lost. */
  logFile?: LogFile;
  /** Most lines kept in memory per job (older ones are read back from the log file). */
  maxLogLines?: number;
  /** Most bytes of text kept in memory per job. */
  maxLogBytes?: number;
  /** Milliseconds between SIGTERM and SIGKILL of the job's process group. */
  killGraceMs?: number;
  /** Most milliseconds the job's output is still read once its process group is gone. */
  outputDrainMs?: number;
}

/** How the main process ended: its exit code, or the signal that killed it. */
interface MainExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A snapshot of a job, as JobStatus reports it. */
export interface LocalJobSnapshot {
  state: JobState;
  exitCode: number | undefined;
  reason: string;
  createdAt: Date;
  startedAt: Date | undefined;
  finishedAt: Date | undefined;
}

const TERMINAL = new Set([JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED]);

/** True for SUCCEEDED, FAILED and CANCELLED. */
export function isTerminal(state: JobState): boolean {
  return TERMINAL.has(state);
}

/**
 * A job running as a local process.
 *
 * The process gets its own process group (`detached`), so cancel and timeout
 * can stop everything it started, not just the direct child. A job ends when
 * its main process ends: whatever it left running in its group is stopped
 * (SIGTERM, SIGKILL after the grace period) and its output read for a bounded
 * time, so nothing outlives it and no background child keeps it RUNNING.
 */
export class LocalJob {
  /** The job's output, line by line. */
  readonly log: JobLog;
  /** Resolves once the job is terminal and its log is closed. */
  readonly finished: Promise<void>;

  private state = JobState.PENDING;
  private exitCode: number | undefined;
  private reason = "";
  private readonly createdAt = new Date();
  private startedAt: Date | undefined;
  private finishedAt: Date | undefined;
  private subprocess: ChildProcess | undefined;
  /** Settles when the main process has exited, with its exit code or signal. */
  private mainExited: Promise<MainExit> | undefined;
  private mainHasExited = false;
  /** The stop a cancel or timeout started, so the end of the job waits for it rather than starting another. */
  private groupStopping: Promise<void> | undefined;
  private readonly outputDrainMs: number;
  /** Set when we decided how the job ends before the process did (cancel, timeout). */
  private stopVerdict: { state: JobState; reason: string } | undefined;
  private cancelTimeout: (() => void) | undefined;
  private readonly killGraceMs: number;
  private markFinished!: () => void;
  private readonly observer: LocalJobObserver | undefined;
  private readonly watchdog: LocalJobOptions["watchdog"];

  constructor(
    /** The job id inside this plugin. */
    readonly id: string,
    private readonly launch: LocalJobLaunch,
    options: LocalJobOptions = {},
  ) {
    this.observer = options.observer;
    this.watchdog = options.watchdog;
    this.log = new JobLog({
      ...(options.maxLogLines === undefined ? {} : { maxLines: options.maxLogLines }),
      ...(options.maxLogBytes === undefined ? {} : { maxBytes: options.maxLogBytes }),
      ...(options.logFile ? { file: options.logFile } : {}),
    });
    this.killGraceMs = options.killGraceMs ?? 2_000;
    this.outputDrainMs = options.outputDrainMs ?? DEFAULT_OUTPUT_DRAIN_MS;
    this.finished = new Promise((resolve) => {
      this.markFinished = resolve;
    });
  }

  /** Starts the process; the returned promise settles once it was spawned (or failed to). */
  start(): void {
    const { file, args, env, cwd, timeoutMs } = this.launch;
    // node:child_process, not a wrapper: the plugin reads the output, waits for the exit and stops the group
    // itself, and a wrapper such as execa would add about 23 MB to the plugin's resident memory for none of it.
    const subprocess = spawn(file, args, {
      env,
      cwd,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.subprocess = subprocess;
    const spawnFailed = new Promise<Error>((resolve) => subprocess.on("error", resolve));
    // The "exit" event, not "close": that waits for the output pipes to close, which a background child
    // holding them can put off for as long as it runs.
    this.mainExited = new Promise((resolve) => subprocess.once("exit", (code, signal) => resolve({ code, signal })));
    const stdout = subprocess.stdout as Readable;
    const stderr = subprocess.stderr as Readable;
    const outputsDone = Promise.all([this.pump(stdout, LogStream.STDOUT), this.pump(stderr, LogStream.STDERR)]);
    // Node assigns the pid synchronously when the spawn succeeded.
    const pid = subprocess.pid;
    if (pid === undefined) {
      void spawnFailed.then((error) => {
        this.finish(undefined, undefined, {
          state: JobState.FAILED,
          reason: `could not start ${JSON.stringify(file)}: ${error.message}`,
        });
      });
      return;
    }
    this.watchdog?.register(pid);
    this.state = JobState.RUNNING;
    this.startedAt = new Date();
    this.observer?.state(this.snapshot());
    if (timeoutMs !== undefined && timeoutMs > 0) {
      // Any JobSpec.timeout, including ones past Node's 24.8-day timer limit.
      this.cancelTimeout = setLongTimeout(() => {
        this.stop(JobState.FAILED, `timed out: the job ran longer than its timeout of ${formatMs(timeoutMs)}`);
      }, timeoutMs);
    }
    void this.endWithMainProcess(pid, [stdout, stderr], outputsDone);
  }

  /**
   * A job ends when its main process ends, as a container does when its PID 1 exits: what it left running
   * in its group is stopped (SIGTERM, SIGKILL after the grace period), not waited for, and its output is
   * read until the pipes close, but only for a bounded time, since a process that left the group may hold
   * them open.
   */
  private async endWithMainProcess(pid: number, outputs: Readable[], outputsDone: Promise<unknown>) {
    const exit = await (this.mainExited as Promise<MainExit>);
    this.mainHasExited = true;
    this.cancelTimeout?.();
    // A cancel or timeout already stopping the group also kills its leftovers once the leader is gone.
    await (this.groupStopping ?? stopGroupLeftovers(pid, { graceMs: this.killGraceMs }));
    this.watchdog?.forget(pid);
    await drainStreams(outputs, this.outputDrainMs);
    // Cut-off streams end their readers with an error; the lines read until then are kept.
    await outputsDone.catch(() => {});
    this.finish(exit.code, exit.signal);
  }

  /** Records how the job ended, closes its log and tells whoever waits. */
  private finish(
    code: number | null | undefined,
    signal: NodeJS.Signals | null | undefined,
    notStarted?: { state: JobState; reason: string },
  ): void {
    this.finishedAt = new Date();
    if (this.startedAt === undefined) this.startedAt = this.finishedAt;
    if (typeof code === "number") this.exitCode = code;
    if (notStarted) {
      this.state = notStarted.state;
      this.reason = notStarted.reason;
      this.log.append(LogStream.SYSTEM, `[flotilla] ${this.reason}`);
    } else if (this.stopVerdict) {
      this.state = this.stopVerdict.state;
      this.reason = this.stopVerdict.reason;
    } else if (code === 0) {
      this.state = JobState.SUCCEEDED;
    } else if (typeof code === "number") {
      this.state = JobState.FAILED;
      this.reason = `exited with code ${code}`;
    } else {
      this.state = JobState.FAILED;
      this.reason = `killed by signal ${signal}`;
    }
    this.log.close();
    this.observer?.state(this.snapshot());
    this.markFinished();
  }

  /**
   * Stops the job: SIGTERM to its process group, SIGKILL after the grace
   * period (`graceMs`, default the job's configured one). The job ends
   * CANCELLED unless it already finished.
   */
  cancel(reason: string, graceMs: number = this.killGraceMs): void {
    this.stop(JobState.CANCELLED, reason ? `cancelled: ${reason}` : "cancelled", graceMs);
  }

  /**
   * SIGKILLs the job's process group at once, if it is still running, and
   * tells the observer how it ended: for process exit, where no callback
   * runs any more.
   */
  killNow(reason: string): void {
    this.log.flush();
    if (isTerminal(this.state)) return;
    this.killGroup();
    this.observer?.state({ ...this.snapshot(), state: JobState.CANCELLED, reason, finishedAt: new Date() });
  }

  /** The job's process id (and process group id) once spawned. */
  get pid(): number | undefined {
    return this.subprocess?.pid;
  }

  /** The job's state now. */
  snapshot(): LocalJobSnapshot {
    return {
      state: this.state,
      exitCode: this.exitCode,
      reason: this.reason,
      createdAt: this.createdAt,
      startedAt: this.startedAt,
      finishedAt: this.finishedAt,
    };
  }

  private stop(state: JobState, reason: string, graceMs: number = this.killGraceMs): void {
    // Once the main process has exited, the job is ending the way it ended; a late cancel changes nothing.
    if (isTerminal(this.state) || this.stopVerdict || this.mainHasExited) return;
    this.stopVerdict = { state, reason };
    this.log.append(LogStream.SYSTEM, `[flotilla] ${reason}`);
    const pid = this.subprocess?.pid;
    if (pid !== undefined && this.mainExited)
      this.groupStopping = terminateProcessGroup(pid, { leaderExited: this.mainExited, graceMs });
  }

  /** SIGKILLs the job's whole process group, if there is one (a group already gone is what we wanted). */
  private killGroup(): void {
    const pid = this.subprocess?.pid;
    if (pid !== undefined) signalProcessGroup(pid, "SIGKILL");
  }

  private async pump(stream: Readable | null, which: LogStream): Promise<void> {
    if (!stream) return;
    // The default cap (64 KiB): a job that never prints a newline must not grow the plugin's memory
    // without bound; a longer line is kept as pieces flagged `continues`, which readers join.
    // One Date per chunk: its lines were read at the same moment, and a flood makes no garbage per line for it.
    let readAt = new Date();
    const lines = new LineSplitter((line, continues) => this.log.append(which, line, readAt, continues));
    for await (const chunk of stream) {
      readAt = new Date();
      lines.push(chunk as Buffer);
    }
    readAt = new Date();
    lines.flush();
  }
}

/** "1.5s", "2m" or "350ms": how timeouts are shown to people. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}
