/**
 * Per-environment concurrency limits: at most N runs at once in one
 * environment; further runs wait in a first-in first-out queue instead of
 * failing. A run cancelled while it waits leaves the queue without starting.
 */
import { InvalidArgumentError } from "@flotilla/protocol";
import {
  CANCELLED_EXIT_CODE,
  type SandboxRunner,
  type SandboxRunOptions,
  type SandboxRunRequest,
  type SandboxRunResult,
} from "./sandbox-runner.js";

/** Wraps a runner so that at most `maxConcurrent` of its runs are in progress. */
export class ConcurrencyLimitedRunner implements SandboxRunner {
  readonly #inner: SandboxRunner;
  readonly #maxConcurrent: number;
  readonly #waiting: (() => void)[] = [];
  #active = 0;

  constructor(inner: SandboxRunner, maxConcurrent: number) {
    if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) {
      throw new InvalidArgumentError(`max_concurrent must be a whole number of at least 1, got ${maxConcurrent}`);
    }
    this.#inner = inner;
    this.#maxConcurrent = maxConcurrent;
  }

  get kind(): string {
    return this.#inner.kind;
  }

  /** Runs in progress now. */
  get active(): number {
    return this.#active;
  }

  /** Runs waiting for a slot. */
  get queued(): number {
    return this.#waiting.length;
  }

  async run(request: SandboxRunRequest, options: SandboxRunOptions = {}): Promise<SandboxRunResult> {
    const queuedAt = new Date();
    const admitted = await this.#acquire(options.signal);
    if (!admitted) {
      return {
        exitCode: CANCELLED_EXIT_CODE,
        reason: "cancelled",
        message: "the run was cancelled while it waited for a free slot in its environment",
        startedAt: queuedAt,
        finishedAt: new Date(),
        runName: "",
        reused: false,
      };
    }
    try {
      return await this.#inner.run(request, options);
    } finally {
      this.#release();
    }
  }

  /** Resolves true once a slot is free, or false if `signal` aborts first. */
  #acquire(signal: AbortSignal | undefined): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    if (this.#active < this.#maxConcurrent) {
      this.#active += 1;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const admit = (): void => {
        signal?.removeEventListener("abort", leave);
        this.#active += 1;
        resolve(true);
      };
      const leave = (): void => {
        const index = this.#waiting.indexOf(admit);
        if (index >= 0) this.#waiting.splice(index, 1);
        resolve(false);
      };
      this.#waiting.push(admit);
      signal?.addEventListener("abort", leave, { once: true });
    });
  }

  #release(): void {
    this.#active -= 1;
    this.#waiting.shift()?.();
  }
}
