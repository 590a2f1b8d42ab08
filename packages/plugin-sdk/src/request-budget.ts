/**
 * One shared request budget per API, so many callers together stay inside a
 * quota: a token bucket that refills at `ratePerSecond` up to `burst`, and
 * hands out one token per request. A plugin following many jobs makes one
 * budget per quota (e.g. per API and region) and has every follower `take()`
 * a token before each call, so the number of followers no longer decides the
 * request rate. Waiters are served in the order they asked.
 */
import { sleep } from "@flotilla/process";

/** Options of {@link RequestBudget}. */
export interface RequestBudgetOptions {
  /** Tokens added per second: the sustained request rate. Must be > 0. */
  ratePerSecond: number;
  /** Most tokens held at once: how many requests may go out together after a quiet spell. Default 1. */
  burst?: number;
  /** The clock, in ms; default `Date.now`. Tests pass a fake clock. */
  now?: () => number;
  /** Waits `ms` or until `signal` aborts (resolving or rejecting then); default `sleep`. Tests pass one that moves their clock. */
  sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
}

/** A token bucket shared by every caller of one quota. */
export class RequestBudget {
  readonly ratePerSecond: number;
  readonly burst: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  /** Tokens available; negative when callers have reserved tokens not yet refilled (they are waiting). */
  private tokens: number;
  private updatedAt: number;

  constructor(options: RequestBudgetOptions) {
    const { ratePerSecond, burst = 1 } = options;
    if (!(Number.isFinite(ratePerSecond) && ratePerSecond > 0))
      throw new RangeError(`RequestBudget: ratePerSecond must be a finite number > 0, got ${ratePerSecond}`);
    if (!(Number.isInteger(burst) && burst >= 1))
      throw new RangeError(`RequestBudget: burst must be an integer >= 1, got ${burst}`);
    this.ratePerSecond = ratePerSecond;
    this.burst = burst;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? sleep;
    this.tokens = burst;
    this.updatedAt = this.now();
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) * this.ratePerSecond) / 1000);
    this.updatedAt = now;
  }

  /**
   * Takes one token, waiting until the bucket has refilled enough. Each call
   * reserves its token at once (the bucket may go below zero), so waiters are
   * served first come, first served and none starves. If `signal` aborts
   * while waiting, the token is given back and the promise rejects with the
   * signal's reason.
   */
  async take(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.refill();
    this.tokens -= 1;
    if (this.tokens >= 0) return;
    const waitMs = (-this.tokens * 1000) / this.ratePerSecond;
    try {
      await this.sleep(waitMs, signal);
    } catch (err) {
      if (!signal?.aborted) {
        this.tokens += 1;
        throw err;
      }
    }
    if (signal?.aborted) {
      this.tokens += 1;
      signal.throwIfAborted();
    }
  }

  /**
   * Holds every later `take()` back for at least `ms` from now (callers
   * already waiting keep their turn): for when the service said the quota
   * was exceeded anyway (ThrottlingException, HTTP 429) because someone else
   * shares it. Back-offs do not add up: many callers throttled at once hold
   * the budget back for the longest of their back-offs, not for their sum.
   */
  backOff(ms: number): void {
    if (!(Number.isFinite(ms) && ms >= 0))
      throw new RangeError(`RequestBudget.backOff: ms must be a finite number >= 0, got ${ms}`);
    this.refill();
    this.tokens = Math.min(this.tokens, -(ms * this.ratePerSecond) / 1000);
  }
}
