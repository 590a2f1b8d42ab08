/**
 * Polls the status of every job a provider runner is waiting on with one
 * BatchJobStatus call per tick, instead of one JobStatus call per job per
 * tick: with N jobs in flight the provider (and the cloud API behind it) sees
 * one call per interval, not N. Falls back to JobStatus per job for a runner
 * without BatchJobStatus. A provider that answers RESOURCE_EXHAUSTED or
 * UNAVAILABLE is polled less often (the interval doubles per such tick, up to
 * MAX_THROTTLE_BACKOFF times) until a tick gets through.
 */
import {
  type BatchJobStatusResponse,
  Code,
  FlotillaError,
  fromJobError,
  isFlotillaError,
  type JobHandle,
  type JobStatus,
  UnimplementedError,
} from "@flotilla/protocol";
import { isTerminalJobState } from "./job-outcome.js";
import type { BatchingProviderJobRunner, ProviderJobRunner } from "./provider-job-runner.js";

/** The contract's limit on handles per BatchJobStatus call. */
const MAX_HANDLES_PER_BATCH = 1000;

/** The longest a throttled poller stretches its interval to, as a multiple of the configured one. */
export const MAX_THROTTLE_BACKOFF = 16;

interface Waiter {
  readonly handle: JobHandle;
  readonly resolve: (status: JobStatus) => void;
  readonly reject: (error: unknown) => void;
  /** Sees every status polled for the job, terminal or not. */
  readonly onStatus?: ((status: JobStatus) => void) | undefined;
}

/** Shared status polling for the jobs of one provider. */
export class JobStatusPoller {
  readonly #runner: ProviderJobRunner;
  readonly #intervalMs: number;
  readonly #waiters = new Map<string, Waiter[]>();
  #timer: NodeJS.Timeout | undefined;
  #polling = false;
  /** Set once the runner answered BatchJobStatus with UNIMPLEMENTED (a plugin that serves only JobStatus). */
  #noBatch = false;
  /** Jobs to poll at once, apart from the tick (see pollSoon). */
  readonly #soon = new Map<string, JobHandle>();
  #soonTimer: NodeJS.Timeout | undefined;
  /**
   * The interval's multiple now: doubled each tick the provider answers RESOURCE_EXHAUSTED or UNAVAILABLE
   * (throttled, or struggling: polling it as often only makes that worse), up to MAX_THROTTLE_BACKOFF, and
   * back to 1 at the first tick that gets through.
   */
  #backoff = 1;

  constructor(runner: ProviderJobRunner, intervalMs: number) {
    this.#runner = runner;
    this.#intervalMs = intervalMs;
  }

  /** Jobs being waited on now. */
  get tracked(): number {
    return this.#waiters.size;
  }

  /** Milliseconds until the next tick as things stand: the interval, stretched while the provider throttles. */
  get currentIntervalMs(): number {
    return this.#intervalMs * this.#backoff;
  }

  /**
   * Resolves with the job's status once it is terminal; rejects if `signal` aborts or the job cannot be read.
   * Retriable failures (Unavailable, ...) are tried again on the next tick. `onStatus` sees every status polled.
   */
  waitForTerminal(handle: JobHandle, signal: AbortSignal, onStatus?: (status: JobStatus) => void): Promise<JobStatus> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const waiter: Waiter = {
        handle,
        onStatus,
        resolve: (status) => {
          signal.removeEventListener("abort", onAbort);
          resolve(status);
        },
        reject: (error) => {
          signal.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      const onAbort = (): void => {
        this.#remove(handle.jobId, waiter);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      const list = this.#waiters.get(handle.jobId) ?? [];
      list.push(waiter);
      this.#waiters.set(handle.jobId, list);
      this.#schedule();
    });
  }

  /**
   * Polls this job at once rather than at the next tick, together with any other job asked for in the same
   * turn of the event loop, and only those: a job whose log has just ended has most likely ended too, and a
   * short job should not wait out a whole interval for its end to be seen. One extra call per job, not one
   * extra round over every tracked job.
   */
  pollSoon(handle: JobHandle): void {
    if (!this.#waiters.has(handle.jobId)) return;
    this.#soon.set(handle.jobId, handle);
    this.#soonTimer ??= setTimeout(() => {
      this.#soonTimer = undefined;
      const handles = [...this.#soon.values()].filter((h) => this.#waiters.has(h.jobId));
      this.#soon.clear();
      void this.#pollHandles(handles);
    }, 0);
  }

  #remove(jobId: string, waiter: Waiter): void {
    const list = (this.#waiters.get(jobId) ?? []).filter((w) => w !== waiter);
    if (list.length) this.#waiters.set(jobId, list);
    else this.#waiters.delete(jobId);
    this.#idleWhenNoneLeft();
  }

  /** Nothing left to wait on: no tick is left pending either, so the poller never holds its process open. */
  #idleWhenNoneLeft(): void {
    if (this.#waiters.size > 0 || !this.#timer) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    if (this.#timer || this.#polling || this.#waiters.size === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#poll();
    }, this.currentIntervalMs);
  }

  async #poll(): Promise<void> {
    this.#polling = true;
    try {
      const throttled = await this.#pollHandles(
        [...this.#waiters.values()].flatMap((list) => (list[0] ? [list[0].handle] : [])),
      );
      this.#backoff = throttled ? Math.min(this.#backoff * 2, MAX_THROTTLE_BACKOFF) : 1;
    } finally {
      this.#polling = false;
      this.#schedule();
    }
  }

  /** Polls the jobs; true when the provider throttled a call (see #backoff). */
  async #pollHandles(handles: JobHandle[]): Promise<boolean> {
    const runner = this.#runner as Partial<BatchingProviderJobRunner>;
    let throttled = false;
    if (typeof runner.batchJobStatus === "function" && !this.#noBatch) {
      for (let i = 0; i < handles.length; i += MAX_HANDLES_PER_BATCH) {
        const batch = handles.slice(i, i + MAX_HANDLES_PER_BATCH);
        throttled = (await this.#pollBatch(runner as BatchingProviderJobRunner, batch)) || throttled;
      }
    } else {
      for (const handle of handles) throttled = (await this.#pollOne(handle)) || throttled;
    }
    return throttled;
  }

  async #pollBatch(runner: BatchingProviderJobRunner, handles: JobHandle[]): Promise<boolean> {
    let response: BatchJobStatusResponse;
    try {
      response = await runner.batchJobStatus({ handles });
    } catch (error) {
      // A transient failure of the whole call: try again next tick. Anything else fails every job in it.
      if (isFlotillaError(error) && error.retriable) return isThrottling(error);
      if (error instanceof UnimplementedError) {
        // The plugin serves JobStatus only: ask per job from now on.
        this.#noBatch = true;
        let throttled = false;
        for (const handle of handles) throttled = (await this.#pollOne(handle)) || throttled;
        return throttled;
      }
      for (const handle of handles) this.#settle(handle.jobId, undefined, error);
      return false;
    }
    for (const result of response.results) {
      const jobId = result.handle?.jobId;
      if (!jobId) continue;
      if (result.result.case === "status") this.#settle(jobId, result.result.value, undefined);
      else if (result.result.case === "error") {
        const error = fromJobError(result.result.value);
        if (!error.retriable) this.#settle(jobId, undefined, error);
      }
    }
    return false;
  }

  async #pollOne(handle: JobHandle): Promise<boolean> {
    try {
      const { status } = await this.#runner.jobStatus({ handle });
      if (status) this.#settle(handle.jobId, status, undefined);
    } catch (error) {
      if (isFlotillaError(error) && error.retriable) return isThrottling(error);
      this.#settle(handle.jobId, undefined, error);
    }
    return false;
  }

  /** Resolves (terminal status) or rejects (error) every waiter of a job; a non-terminal status waits on. */
  #settle(jobId: string, status: JobStatus | undefined, error: unknown): void {
    if (status) {
      for (const waiter of this.#waiters.get(jobId) ?? []) {
        try {
          waiter.onStatus?.(status);
        } catch {
          // An observer's mistake must not stop the polling of every job.
        }
      }
    }
    if (status && !isTerminalJobState(status.state)) return;
    const waiters = this.#waiters.get(jobId) ?? [];
    this.#waiters.delete(jobId);
    this.#idleWhenNoneLeft();
    for (const waiter of waiters) {
      if (status) waiter.resolve(status);
      else waiter.reject(error instanceof FlotillaError || error instanceof Error ? error : new Error(String(error)));
    }
  }
}

/** A provider saying it gets too many calls (RESOURCE_EXHAUSTED) or cannot take them now (UNAVAILABLE). */
function isThrottling(error: FlotillaError): boolean {
  return error.code === Code.ResourceExhausted || error.code === Code.Unavailable;
}
