/**
 * `provider-ephemeral`: dispatches the command to a provider plugin's
 * IaCProviderRunner (ECS task, Cloud Run job, ...), and the one way Flotilla
 * follows a provider job: `flotilla run` uses this runner too, with its hooks.
 *
 * - The host sends `secret://` references unresolved in JobSpec.secret_env:
 *   the plugin resolves them on its side.
 * - RunJob and JobStatus are retried on retriable errors (Unavailable,
 *   ResourceExhausted, Aborted): RunJob with backoff and an idempotency key
 *   (default: derived from the job identity), so a retry after a lost
 *   response returns the first job's handle instead of starting a second;
 *   JobStatus on the next poll.
 * - The log is followed through JobLogs and resumed after the last line
 *   received (its cursor) when the stream breaks on a retriable error; a log
 *   that cannot be read becomes a warning line, never a failed job. Pieces
 *   of over-long lines are joined (log-line-joiner.ts), the caller's onLog
 *   can push back (a returned promise), and after the job finished the log
 *   is read to its end as long as lines keep coming.
 * - The job's terminal status becomes the result through jobOutcome(): a job
 *   that did not succeed never ends with exit code 0.
 * - Cancel and timeout call CancelJob with a fresh short deadline and then
 *   wait (at most stopWaitMs) for the job to stop, still reading its log.
 * - A job that can no longer be followed is cancelled rather than left
 *   running unwatched.
 * - A job dispatched earlier (by a process that has since died, say) is
 *   followed again with `resume`: no RunJob, its log from a saved cursor.
 *   `detach` stops following without cancelling the job, for a follower that
 *   hands the job over to another (see @flotilla/jobs, which keeps a journal).
 */

import type { MessageInitShape } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { sleep } from "@flotilla/process";
import {
  FailedPreconditionError,
  InternalError,
  isFlotillaError,
  type JobHandle,
  JobState,
  type JobStatus,
  type JobTargetSchema,
  LogStream,
  NotFoundError,
  type ResourcesSchema,
} from "@flotilla/protocol";
import { runKey, runName, shortHash } from "./job-names.js";
import { jobOutcome, jobStateName } from "./job-outcome.js";
import { JobStatusPoller } from "./job-status-poller.js";
import { LogLineJoiner, MAX_JOINED_LINE_BYTES } from "./log-line-joiner.js";
import type { ProviderDirectory, ProviderJobRunner } from "./provider-job-runner.js";
import { backoffDelay, DEFAULT_RETRY_POLICY, type RetryPolicy, retrying } from "./retry.js";
import { RunClock } from "./run-clock.js";
import {
  checkRunRequest,
  type LogLine,
  type SandboxRunner,
  type SandboxRunOptions,
  type SandboxRunRequest,
  type SandboxRunResult,
} from "./sandbox-runner.js";
import { validateSecretEnv } from "./secret-ref.js";
import { drainLogs } from "./wait-at-most.js";

/** Options of a provider-ephemeral runner bound to one provider. */
export interface ProviderRunnerOptions {
  /** The provider's name, e.g. "aws"; used in messages. */
  readonly providerName: string;
  readonly runner: ProviderJobRunner;
  /** Where on the provider jobs run (JobSpec.target). */
  readonly target?: MessageInitShape<typeof JobTargetSchema>;
  /** How often job status is polled (one BatchJobStatus for all jobs when the runner has it). Default 2000 ms. */
  readonly pollIntervalMs?: number;
  /** Deadline of the CancelJob call after a cancel or timeout; also how long a RunJob in flight then may still take. Default 5000 ms. */
  readonly cancelTimeoutMs?: number;
  /** How long a cancelled or timed-out job may take to reach a terminal state after CancelJob. Default 120 s. */
  readonly stopWaitMs?: number;
  /** How long a job may stay non-terminal after its log ended before it counts as lost. Default 120 s. */
  readonly terminalAfterLogEndMs?: number;
  /** Retries of RunJob and resumes of a broken log stream on retriable errors (Unavailable, ResourceExhausted, Aborted). */
  readonly retryPolicy?: RetryPolicy;
  /**
   * How long the log may go without a new line, once the job finished, before reading stops with a warning.
   * Default LOG_DRAIN_TIMEOUT_MS (10 s). A log that still delivers lines is read to its end, however long.
   */
  readonly logDrainIdleMs?: number;
}

/** A run on a provider: a SandboxRunRequest that may also name the job and set the rest of its JobSpec. */
export interface ProviderRunRequest extends SandboxRunRequest {
  /** JobSpec.name. Default: a DNS-safe name derived from the job identity. */
  readonly jobName?: string;
  /** JobSpec.args: arguments after the command (a container's CMD where the command replaces its ENTRYPOINT). */
  readonly args?: readonly string[];
  /** JobSpec.resources: CPU and memory the job asks for. */
  readonly resources?: MessageInitShape<typeof ResourcesSchema>;
  /** JobSpec.target for this run; default the runner's (ProviderRunnerOptions.target). */
  readonly target?: MessageInitShape<typeof JobTargetSchema>;
}

/** How the caller observes one provider run, beyond its log lines. */
export interface ProviderRunOptions extends SandboxRunOptions {
  /**
   * Called with each log line (pieces of over-long lines joined up to {@link MAX_JOINED_LINE_BYTES}). When
   * it returns a promise, the runner reads no more of the log until it settles: a caller that writes to a
   * slow stream returns one (until the stream drains), and the wait reaches the provider through gRPC flow
   * control, so no process on the way buffers the log. The job is not slowed: its provider keeps what was
   * not read yet.
   */
  readonly onLog?: (line: LogLine) => unknown;
  /** Called once, as soon as RunJob answered, with the job's handle; `deduplicated` when a retried RunJob found the job. */
  readonly onJobStarted?: (handle: JobHandle, deduplicated: boolean) => void;
  /** Called with every status polled while the job is followed (pending, running, ..., the terminal one). */
  readonly onStatus?: (status: JobStatus) => void;
  /**
   * Follow a job that was already dispatched instead of calling RunJob: its handle, and the cursor of the
   * last log line the caller already has ("" or absent: the log from its start). The run's timeout
   * (SandboxRunRequest.timeoutMs) counts from this call: pass what is left of it.
   */
  readonly resume?: ProviderRunResume;
  /**
   * Aborting it stops following the job without cancelling it: run() rejects with {@link RunDetachedError}
   * (the job runs on, to be followed again with `resume`). A RunJob in flight is abandoned; a later RunJob
   * with the same idempotency key finds the job it started.
   */
  readonly detach?: AbortSignal;
  /**
   * false: onLog gets the provider's lines as sent, pieces of over-long lines included (flagged
   * `continues`), each with its cursor (LogLine.cursor), for a caller that stores them and resumes after the
   * last one it stored. Default true: pieces are joined into lines (up to MAX_JOINED_LINE_BYTES) and lines
   * carry no cursor, since a joined line's pieces may straddle lines of the other streams.
   */
  readonly joinLines?: boolean;
  /** Why the caller cancelled the run, as CancelJob tells the provider (read when the signal aborts); default "flotilla: run was cancelled". */
  readonly cancelReason?: () => string | undefined;
}

/** A job already dispatched, to follow again (ProviderRunOptions.resume). */
export interface ProviderRunResume {
  /** The handle RunJob returned for it. */
  readonly handle: JobHandle;
  /** The cursor of the last log line already received; "" for the log's start. */
  readonly logCursor?: string;
}

/** Why a run's promise rejected when its caller detached from the job (ProviderRunOptions.detach): the job was not cancelled. */
export class RunDetachedError extends Error {
  constructor(
    /** The job's handle, when RunJob had answered. */
    readonly handle: JobHandle | undefined,
  ) {
    super(
      handle
        ? `stopped following job ${handle.jobId} on provider "${handle.provider}" without cancelling it`
        : "stopped before RunJob answered; a RunJob with the same idempotency key finds the job if it was started",
    );
    this.name = "RunDetachedError";
  }
}

/** How a provider run ended, with the job's handle and last status where known. */
export interface ProviderRunResult extends SandboxRunResult {
  /** The job's handle; absent when the run stopped before RunJob answered. */
  readonly handle?: JobHandle;
  /** The job's terminal status; absent when it was never seen (the run stopped first, or the job did not stop in time). */
  readonly status?: JobStatus;
}

/** Why following a job stopped waiting for its status. */
class StopWaitExpired extends Error {}

/** Runs commands as jobs on a provider plugin's native job runner. */
export class ProviderRunner implements SandboxRunner {
  readonly kind = "provider-ephemeral";
  readonly #options: ProviderRunnerOptions;
  /** One poller for all of this runner's jobs: one BatchJobStatus call per tick, however many jobs run. */
  readonly #poller: JobStatusPoller;

  constructor(options: ProviderRunnerOptions) {
    this.#options = options;
    this.#poller = new JobStatusPoller(options.runner, options.pollIntervalMs ?? 2000);
  }

  async run(request: ProviderRunRequest, options: ProviderRunOptions = {}): Promise<ProviderRunResult> {
    checkRunRequest(this.kind, request, { image: false });
    validateSecretEnv(request.secretEnv);
    const onLog: (line: LogLine) => unknown = options.onLog ?? (() => {});
    const clock = new RunClock(options.signal, request.timeoutMs);
    const runner = this.#options.runner;
    const idempotencyKey = request.idempotencyKey ?? shortHash(runKey(request.jobIdentity), 32);
    let handle: JobHandle | undefined = options.resume?.handle;
    let reused = options.resume !== undefined;
    // A RunJob in flight when the run is stopped is not abandoned (the job it starts would run unwatched):
    // it gets cancelTimeoutMs more to answer, so the job can be cancelled.
    const runJobDeadline = graceAfter(clock.signal, this.#cancelTimeoutMs);
    const detach = options.detach;
    try {
      if (detach?.aborted) throw new RunDetachedError(handle);
      if (clock.stopReason && !handle) return this.#stopped(clock, undefined, undefined, reused);
      if (!handle) {
        const runJobSignal = detach ? AbortSignal.any([runJobDeadline.signal, detach]) : runJobDeadline.signal;
        const response = await this.#retry(
          () =>
            runner.runJob(
              {
                spec: {
                  name: request.jobName ?? runName(request.jobIdentity, { idempotencyKey: request.idempotencyKey }),
                  image: request.image ?? "",
                  command: [...request.command],
                  args: [...(request.args ?? [])],
                  env: { ...request.env },
                  secretEnv: { ...request.secretEnv },
                  labels: { ...request.labels },
                  idempotencyKey,
                  workingDir: request.workingDir ?? "",
                  ...(request.timeoutMs ? { timeout: durationFromMs(request.timeoutMs) } : {}),
                  ...(request.resources ? { resources: request.resources } : {}),
                  ...((request.target ?? this.#options.target)
                    ? { target: request.target ?? this.#options.target }
                    : {}),
                },
              },
              { signal: runJobSignal },
            ),
          detach ? AbortSignal.any([clock.signal, detach]) : clock.signal,
        ).catch((error: unknown) => {
          throw detach?.aborted ? new RunDetachedError(undefined) : error;
        });
        handle = response.handle;
        reused = response.deduplicated;
        if (!handle) {
          // A reply the contract does not allow: the plugin is at fault, not the request.
          throw new InternalError(`provider "${this.#options.providerName}" answered RunJob without a job handle`);
        }
        options.onJobStarted?.(handle, reused);
      }
      const status = await this.#follow(handle, clock, onLog, options);
      if (clock.stopReason && status?.state !== JobState.SUCCEEDED) return this.#stopped(clock, handle, status, reused);
      if (!status) throw new Error(`job ${handle.jobId}: no terminal status`); // unreachable: only a stopped run has none
      return {
        ...jobOutcome(status),
        startedAt: clock.startedAt,
        finishedAt: new Date(),
        runName: handle.jobId,
        reused,
        handle,
        status,
      };
    } catch (error) {
      if (!clock.stopReason || error instanceof RunDetachedError) throw error;
      return this.#stopped(clock, handle, undefined, reused);
    } finally {
      runJobDeadline.dispose();
      clock.dispose();
    }
  }

  /** The result of a run stopped by its caller or its timeout: the stop's reason and exit code, the job's own words. */
  #stopped(
    clock: RunClock,
    handle: JobHandle | undefined,
    status: JobStatus | undefined,
    reused: boolean,
  ): ProviderRunResult {
    const stopped = clock.stoppedOutcome();
    return {
      ...stopped,
      message: status?.reason || stopped.message,
      startedAt: clock.startedAt,
      finishedAt: new Date(),
      runName: handle?.jobId ?? "",
      reused,
      ...(handle ? { handle } : {}),
      ...(status ? { status } : {}),
    };
  }

  /**
   * Follows the job to a terminal status, reading its log meanwhile. When the clock stops the run, cancels the job
   * and keeps following it (log included) until it stops, at most stopWaitMs; resolves undefined if it did not.
   */
  async #follow(
    handle: JobHandle,
    clock: RunClock,
    onLog: (line: LogLine) => unknown,
    options: Pick<ProviderRunOptions, "onStatus" | "resume" | "detach" | "joinLines" | "cancelReason">,
  ): Promise<JobStatus | undefined> {
    const { onStatus, detach } = options;
    const stopLogs = new AbortController();
    const received = { lines: 0 };
    const logs = this.#followLogs(handle, stopLogs.signal, onLog, received, {
      cursor: options.resume?.logCursor ?? "",
      join: options.joinLines ?? true,
    });
    const giveUp = new AbortController();
    const onDetach = (): void => giveUp.abort(new RunDetachedError(handle));
    detach?.addEventListener("abort", onDetach, { once: true });
    const timers: NodeJS.Timeout[] = [];
    let done = false;
    const after = (ms: number, reason: Error) => {
      if (!done) timers.push(setTimeout(() => giveUp.abort(reason), ms));
    };
    const onStop = (): void => {
      const reason =
        clock.stopReason === "timeout"
          ? "flotilla: run timed out"
          : options.cancelReason?.() || "flotilla: run was cancelled";
      void this.#cancel(handle, reason, onLog);
      after(this.#options.stopWaitMs ?? 120_000, new StopWaitExpired());
    };
    if (clock.signal.aborted) onStop();
    else clock.signal.addEventListener("abort", onStop, { once: true });
    let lastState = JobState.UNSPECIFIED;
    void logs.then((end) => {
      if (end !== "ended") return;
      this.#poller.pollSoon(handle);
      const limit = this.#options.terminalAfterLogEndMs ?? 120_000;
      after(
        limit,
        new Error(
          `job ${handle.jobId}: its log ended but provider "${this.#options.providerName}" still reports it ${jobStateName(lastState)} after ${limit / 1000} s`,
        ),
      );
    });
    let status: JobStatus;
    try {
      status = await this.#poller.waitForTerminal(handle, giveUp.signal, (polled) => {
        lastState = polled.state;
        onStatus?.(polled);
      });
    } catch (error) {
      stopLogs.abort();
      if (error instanceof RunDetachedError) {
        // The log reader stops where it is; whatever it delivered was delivered whole, with its cursor.
        await logs;
        throw error;
      }
      if (error instanceof StopWaitExpired) {
        onLog({
          stream: "system",
          text: `warning: job ${handle.jobId} on provider "${this.#options.providerName}" did not stop within ${(this.#options.stopWaitMs ?? 120_000) / 1000} s of CancelJob`,
        });
        return undefined;
      }
      // Following failed for a reason other than cancel/timeout (the provider is gone for good, the job is lost):
      // stop the job rather than leave it running unwatched.
      if (!clock.stopReason && (await this.#cancel(handle, "flotilla: run could not be followed", onLog))) {
        onLog({
          stream: "system",
          text: `cancelled job ${handle.jobId} on provider "${this.#options.providerName}", which could no longer be followed`,
        });
      }
      throw error;
    } finally {
      done = true;
      for (const timer of timers) clearTimeout(timer);
      clock.signal.removeEventListener("abort", onStop);
      detach?.removeEventListener("abort", onDetach);
    }
    // Detaching while the log is drained stops the reader too: the log was not read to its end.
    const stopDraining = (): void => stopLogs.abort();
    detach?.addEventListener("abort", stopDraining, { once: true });
    try {
      await drainLogs(
        logs.then(() => undefined),
        stopLogs,
        `job ${handle.jobId}`,
        onLog,
        // A log still delivering lines is read to its end: a slow reader of a flood must not lose its tail.
        { idleMs: this.#options.logDrainIdleMs, progress: () => received.lines },
      );
    } finally {
      detach?.removeEventListener("abort", stopDraining);
    }
    if (detach?.aborted) throw new RunDetachedError(handle);
    return status;
  }

  /**
   * Follows the job's log. A stream that breaks with a retriable error (Unavailable, ...) is resumed after the
   * last line received, using its cursor, with backoff; up to the retry policy's tries in a row without a new
   * line. A stream cannot be resumed once it sent lines without cursors (they would be repeated). Any other
   * failure becomes a warning line, never a failed job.
   */
  async #followLogs(
    handle: JobHandle,
    signal: AbortSignal,
    onLog: (line: LogLine) => unknown,
    received: { lines: number },
    from: { cursor: string; join: boolean },
  ): Promise<"ended" | "failed" | "stopped"> {
    const policy = this.#options.retryPolicy ?? DEFAULT_RETRY_POLICY;
    // Joins pieces of over-long lines (LogLine.continues); kept across resumes, which continue after the last piece.
    const joiner = new LogLineJoiner();
    /** Hands lines to onLog; a promise when onLog pushed back (read no more until it settles), else nothing to wait for. */
    const deliver = (lines: LogLine[]): Promise<void> | undefined => {
      for (let i = 0; i < lines.length; i++) {
        const settled = onLog(lines[i] as LogLine);
        if (isThenable(settled)) return deliverRest(settled, lines.slice(i + 1));
      }
      return undefined;
    };
    const deliverRest = async (settled: PromiseLike<unknown>, rest: LogLine[]): Promise<void> => {
      await settled;
      for (const line of rest) {
        const next = onLog(line);
        if (isThenable(next)) await next;
      }
    };
    let cursor = from.cursor;
    /** Lines delivered since the last one that carried a cursor: resuming would repeat them. */
    let sinceCursor = 0;
    let failures = 0;
    for (;;) {
      try {
        for await (const response of this.#options.runner.jobLogs({ handle, follow: true, cursor }, { signal })) {
          for (const line of response.lines) {
            received.lines += 1;
            // No await (and no promise) per line unless onLog pushes back: a flood is millions of lines.
            const waiting = deliver(
              from.join
                ? joiner.push(streamName(line.stream), line.text, line.continues)
                : [asSent(streamName(line.stream), line.text, line.continues, line.cursor)],
            );
            if (waiting) await waiting;
            failures = 0;
            if (line.cursor) {
              cursor = line.cursor;
              sinceCursor = 0;
            } else sinceCursor += 1;
          }
        }
        await deliver(joiner.flush());
        return "ended";
      } catch (error) {
        if (signal.aborted) return "stopped";
        if (isFlotillaError(error) && error.retriable && sinceCursor === 0 && failures < policy.maxAttempts - 1) {
          await sleep(backoffDelay(failures, policy), signal).catch(() => {});
          failures += 1;
          if (signal.aborted) return "stopped";
          continue;
        }
        await deliver(joiner.flush());
        onLog({
          stream: "system",
          text: `warning: could not fetch the log of job ${handle.jobId} from provider "${this.#options.providerName}": ${error instanceof Error ? error.message : String(error)}`,
        });
        return "failed";
      }
    }
  }

  /** Sends CancelJob with a short deadline of its own; true when the provider accepted it, else a warning line. */
  async #cancel(handle: JobHandle, reason: string, onLog: (line: LogLine) => unknown): Promise<boolean> {
    try {
      await this.#options.runner.cancelJob({ handle, reason }, { signal: AbortSignal.timeout(this.#cancelTimeoutMs) });
      return true;
    } catch (error) {
      onLog({
        stream: "system",
        text: `warning: could not cancel job ${handle.jobId} on provider "${this.#options.providerName}": ${error instanceof Error ? error.message : String(error)}`,
      });
      return false;
    }
  }

  get #cancelTimeoutMs(): number {
    return this.#options.cancelTimeoutMs ?? 5000;
  }

  #retry<T>(operation: () => Promise<T>, signal: AbortSignal): Promise<T> {
    return retrying(
      operation,
      (error) => ({ retry: isFlotillaError(error) && error.retriable }),
      this.#options.retryPolicy ?? DEFAULT_RETRY_POLICY,
      signal,
    );
  }
}

/** A signal that aborts `ms` after `signal` did; dispose() when done. */
function graceAfter(signal: AbortSignal, ms: number): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const onAbort = (): void => {
    timer = setTimeout(() => controller.abort(signal.reason), ms);
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });
  return {
    signal: controller.signal,
    dispose() {
      signal.removeEventListener("abort", onAbort);
      if (timer) clearTimeout(timer);
    },
  };
}

/** The provider-ephemeral runner for `providerName`, or an error naming the providers that can run jobs. */
export function providerRunnerFor(
  directory: ProviderDirectory,
  providerName: string,
  options: Omit<ProviderRunnerOptions, "providerName" | "runner"> = {},
): ProviderRunner {
  const names = directory.providerNames();
  if (!names.includes(providerName)) {
    throw new NotFoundError(
      `provider-ephemeral: provider "${providerName}" is not configured; configured providers: ${names.length ? names.join(", ") : "none"}`,
    );
  }
  const runner = directory.runnerOf(providerName);
  if (!runner) {
    const capable = names.filter((name) => directory.runnerOf(name) !== undefined);
    throw new FailedPreconditionError(
      `provider-ephemeral: provider "${providerName}" does not advertise IaCProviderRunner, so it cannot run jobs; providers that do: ${capable.length ? capable.join(", ") : "none"}`,
    );
  }
  return new ProviderRunner({ ...options, providerName, runner });
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === "function";
}

/** A provider's line as it sent it (a piece stays a piece), with its cursor when it has one. */
function asSent(stream: LogLine["stream"], text: string, continues: boolean, cursor: string): LogLine {
  return { stream, text, ...(continues ? { continues: true as const } : {}), ...(cursor ? { cursor } : {}) };
}

function streamName(stream: LogStream): LogLine["stream"] {
  if (stream === LogStream.STDERR) return "stderr";
  if (stream === LogStream.SYSTEM) return "system";
  return "stdout";
}
