/**
 * `provider-ephemeral`: dispatches the command to a provider plugin's
 * IaCProviderRunner (ECS task, Cloud Run job, ...). The host sends `secret://`
 * references unresolved in JobSpec.secret_env: the plugin resolves them on its
 * side. The idempotency key defaults to one derived from the job identity, so
 * a RunJob retried after a lost response returns the first job's handle
 * instead of starting a second. Logs are followed through JobLogs; a failed
 * log stream becomes a warning line. Cancel and timeout call CancelJob with a
 * fresh short deadline.
 */

import type { MessageInitShape } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import {
  isFlotillaError,
  type JobHandle,
  JobState,
  type JobStatus,
  type JobTargetSchema,
  LogStream,
} from "@flotilla/protocol";
import { runKey, runName, shortHash } from "./job-names.js";
import { JobStatusPoller } from "./job-status-poller.js";
import type { ProviderDirectory, ProviderJobRunner } from "./provider-job-runner.js";
import { backoffDelay, DEFAULT_RETRY_POLICY, type RetryPolicy, retrying, sleep } from "./retry.js";
import { RunClock } from "./run-clock.js";
import type {
  LogLine,
  SandboxRunner,
  SandboxRunOptions,
  SandboxRunRequest,
  SandboxRunResult,
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
  /** Deadline of the CancelJob call after a cancel or timeout. Default 5000 ms. */
  readonly cancelTimeoutMs?: number;
  /** Retries of RunJob/JobStatus on retriable errors (Unavailable, ResourceExhausted, Aborted). */
  readonly retryPolicy?: RetryPolicy;
}

/** How many times a broken log stream is resumed from its cursor before giving up with a warning. */
const LOG_RESUMES = 3;

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

  async run(request: SandboxRunRequest, options: SandboxRunOptions = {}): Promise<SandboxRunResult> {
    if (request.command.length === 0)
      throw new TypeError("provider-ephemeral runner: command is empty; give at least the program to run");
    validateSecretEnv(request.secretEnv);
    const onLog = options.onLog ?? (() => {});
    const clock = new RunClock(options.signal, request.timeoutMs);
    const runner = this.#options.runner;
    const idempotencyKey = request.idempotencyKey ?? shortHash(runKey(request.jobIdentity), 32);
    let handle: JobHandle | undefined;
    let reused = false;
    try {
      const response = await this.#retry(
        () =>
          runner.runJob(
            {
              spec: {
                name: runName(request.jobIdentity, { idempotencyKey: request.idempotencyKey }),
                image: request.image ?? "",
                command: [...request.command],
                env: { ...request.env },
                secretEnv: { ...request.secretEnv },
                labels: { ...request.labels },
                idempotencyKey,
                workingDir: request.workingDir ?? "",
                ...(request.timeoutMs ? { timeout: durationFromMs(request.timeoutMs) } : {}),
                ...(this.#options.target ? { target: this.#options.target } : {}),
              },
            },
            { signal: clock.signal },
          ),
        clock.signal,
      );
      handle = response.handle;
      reused = response.deduplicated;
      if (!handle) throw new Error(`provider "${this.#options.providerName}" answered RunJob without a job handle`);
      const status = await this.#follow(handle, clock.signal, onLog);
      return {
        ...outcomeOf(status),
        startedAt: clock.startedAt,
        finishedAt: new Date(),
        runName: handle.jobId,
        reused,
      };
    } catch (error) {
      if (!clock.stopReason) throw error;
      if (handle) await this.#cancel(handle, clock.stopReason, onLog);
      return {
        ...clock.stoppedOutcome(),
        startedAt: clock.startedAt,
        finishedAt: new Date(),
        runName: handle?.jobId ?? "",
        reused,
      };
    } finally {
      clock.dispose();
    }
  }

  async #follow(handle: JobHandle, signal: AbortSignal, onLog: (line: LogLine) => void): Promise<JobStatus> {
    const stopLogs = new AbortController();
    const logs = this.#followLogs(handle, AbortSignal.any([signal, stopLogs.signal]), onLog);
    let status: JobStatus;
    try {
      status = await this.#poller.waitForTerminal(handle, signal);
    } catch (error) {
      // Following failed for a reason other than cancel/timeout (e.g. the provider is gone for good):
      // stop reading the log, and stop the job best-effort rather than leave it running unwatched.
      stopLogs.abort();
      if (!signal.aborted) {
        await this.#cancel(handle, "could not be followed", onLog).catch(() => undefined);
      }
      throw error;
    }
    await drainLogs(logs, stopLogs, `job ${handle.jobId}`, onLog);
    return status;
  }

  /**
   * Follows the job's log. A stream that breaks with a retriable error (Unavailable, ...) is
   * resumed after the last line received, using its cursor, up to {@link LOG_RESUMES} times;
   * any other failure becomes a warning line, never a failed job.
   */
  async #followLogs(handle: JobHandle, signal: AbortSignal, onLog: (line: LogLine) => void): Promise<void> {
    let cursor = "";
    for (let resumes = 0; ; resumes++) {
      try {
        for await (const response of this.#options.runner.jobLogs({ handle, follow: true, cursor }, { signal })) {
          for (const line of response.lines) {
            onLog({ stream: streamName(line.stream), text: line.text });
            if (line.cursor) cursor = line.cursor;
          }
        }
        return;
      } catch (error) {
        if (signal.aborted) return;
        if (isFlotillaError(error) && error.retriable && cursor && resumes < LOG_RESUMES) {
          await sleep(backoffDelay(resumes, this.#options.retryPolicy ?? DEFAULT_RETRY_POLICY), signal).catch(() => {});
          continue;
        }
        onLog({
          stream: "system",
          text: `warning: could not fetch the log of job ${handle.jobId} from provider "${this.#options.providerName}": ${error instanceof Error ? error.message : String(error)}`,
        });
        return;
      }
    }
  }

  async #cancel(handle: JobHandle, why: string, onLog: (line: LogLine) => void): Promise<void> {
    try {
      await this.#options.runner.cancelJob(
        { handle, reason: `flotilla: run ${why}` },
        { signal: AbortSignal.timeout(this.#options.cancelTimeoutMs ?? 5000) },
      );
    } catch (error) {
      onLog({
        stream: "system",
        text: `warning: could not cancel job ${handle.jobId} on provider "${this.#options.providerName}": ${error instanceof Error ? error.message : String(error)}`,
      });
    }
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

/** The provider-ephemeral runner for `providerName`, or an error naming the providers that can run jobs. */
export function providerRunnerFor(
  directory: ProviderDirectory,
  providerName: string,
  options: Omit<ProviderRunnerOptions, "providerName" | "runner"> = {},
): ProviderRunner {
  const names = directory.providerNames();
  if (!names.includes(providerName)) {
    throw new Error(
      `provider-ephemeral: provider "${providerName}" is not configured; configured providers: ${names.length ? names.join(", ") : "none"}`,
    );
  }
  const runner = directory.runnerOf(providerName);
  if (!runner) {
    const capable = names.filter((name) => directory.runnerOf(name) !== undefined);
    throw new Error(
      `provider-ephemeral: provider "${providerName}" does not advertise IaCProviderRunner, so it cannot run jobs; providers that do: ${capable.length ? capable.join(", ") : "none"}`,
    );
  }
  return new ProviderRunner({ ...options, providerName, runner });
}

function outcomeOf(status: JobStatus): Pick<SandboxRunResult, "exitCode" | "reason" | "message"> {
  switch (status.state) {
    case JobState.SUCCEEDED:
      return { exitCode: status.exitCode ?? 0, reason: "exited", message: status.reason };
    case JobState.FAILED:
      return status.exitCode !== undefined
        ? { exitCode: status.exitCode, reason: "exited", message: status.reason }
        : { exitCode: 1, reason: "failed", message: status.reason || "the provider reports the job failed" };
    case JobState.CANCELLED:
      return {
        exitCode: status.exitCode ?? 130,
        reason: "cancelled",
        message: status.reason || "the job was cancelled on the provider",
      };
    default:
      return { exitCode: 1, reason: "failed", message: status.reason || "the provider lost track of the job" };
  }
}

function streamName(stream: LogStream): LogLine["stream"] {
  if (stream === LogStream.STDERR) return "stderr";
  if (stream === LogStream.SYSTEM) return "system";
  return "stdout";
}
