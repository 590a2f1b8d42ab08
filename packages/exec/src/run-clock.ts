/**
 * The timeout/cancel bookkeeping every runner shares: one AbortSignal that
 * fires on the caller's cancel or on the run's own timeout, and a record of
 * which of the two fired first, so the result's reason is right.
 */
import { setLongTimeout } from "@flotilla/process";
import { CANCELLED_EXIT_CODE, type RunReason, TIMEOUT_EXIT_CODE } from "./sandbox-runner.js";

/** Combines a caller's signal with an optional timeout. Call {@link dispose} when the run ends. */
export class RunClock {
  readonly startedAt = new Date();
  readonly #controller = new AbortController();
  #stopReason: "timeout" | "cancelled" | undefined;
  #cancelTimer: (() => void) | undefined;
  readonly #onCallerAbort = (): void => this.#stop("cancelled");
  readonly #callerSignal: AbortSignal | undefined;

  constructor(callerSignal: AbortSignal | undefined, timeoutMs: number | undefined) {
    this.#callerSignal = callerSignal;
    if (callerSignal?.aborted) this.#stop("cancelled");
    else callerSignal?.addEventListener("abort", this.#onCallerAbort, { once: true });
    if (timeoutMs !== undefined && timeoutMs > 0) {
      // A run may be given more than Node's 24.8-day timer limit (e.g. --timeout 600h).
      this.#cancelTimer = setLongTimeout(() => this.#stop("timeout"), timeoutMs);
    }
  }

  /** Fires when the run must stop, for either reason. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** "timeout" or "cancelled" once the run was told to stop, else undefined. */
  get stopReason(): "timeout" | "cancelled" | undefined {
    return this.#stopReason;
  }

  /** The reason, exit code and message for a run that was stopped. */
  stoppedOutcome(): { reason: RunReason; exitCode: number; message: string } {
    return this.#stopReason === "timeout"
      ? { reason: "timeout", exitCode: TIMEOUT_EXIT_CODE, message: "the run exceeded its timeout and was stopped" }
      : { reason: "cancelled", exitCode: CANCELLED_EXIT_CODE, message: "the run was cancelled by the caller" };
  }

  /** Stops the timer and detaches from the caller's signal. */
  dispose(): void {
    this.#cancelTimer?.();
    this.#callerSignal?.removeEventListener("abort", this.#onCallerAbort);
  }

  #stop(reason: "timeout" | "cancelled"): void {
    if (this.#stopReason) return;
    this.#stopReason = reason;
    this.#controller.abort(new Error(`run ${reason}`));
  }
}
