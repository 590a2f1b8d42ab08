/**
 * When to restart a crashed plugin: exponential backoff with jitter, and a
 * crash loop (too many crashes within a window) ends the retries so the
 * host reports it instead of restarting forever.
 */

/** Restart settings; every field has a default. */
export interface RestartPolicyOptions {
  /** Restart after a crash at all; default true. */
  enabled?: boolean;
  /** Delay before the first restart; default 250 ms. */
  initialDelayMs?: number;
  /** Upper bound of the delay; default 30 000 ms. */
  maxDelayMs?: number;
  /** Growth factor per crash within the window; default 2. */
  multiplier?: number;
  /** Jitter as a fraction of the delay, spread both ways; default 0.3 (so restarts of many plugins do not align). */
  jitter?: number;
  /** Crashes within `windowMs` that make a crash loop; default 5. */
  maxCrashes?: number;
  /** The crash-loop window; default 60 000 ms. */
  windowMs?: number;
}

/** What to do after a crash. */
export type RestartDecision =
  | { action: "restart"; delayMs: number; crashesInWindow: number }
  | { action: "give-up"; reason: "disabled" | "crash-loop"; crashesInWindow: number };

/** Tracks one plugin's crashes and decides about restarts. */
export class RestartPolicy {
  private readonly options: Required<RestartPolicyOptions>;
  private crashTimes: number[] = [];

  constructor(
    options: RestartPolicyOptions = {},
    private readonly random: () => number = Math.random,
    private readonly now: () => number = Date.now,
  ) {
    this.options = {
      enabled: options.enabled ?? true,
      initialDelayMs: options.initialDelayMs ?? 250,
      maxDelayMs: options.maxDelayMs ?? 30_000,
      multiplier: options.multiplier ?? 2,
      jitter: options.jitter ?? 0.3,
      maxCrashes: options.maxCrashes ?? 5,
      windowMs: options.windowMs ?? 60_000,
    };
  }

  /** The settings in force, defaults filled in. */
  get settings(): Readonly<Required<RestartPolicyOptions>> {
    return this.options;
  }

  /** Records a crash now and decides. */
  recordCrash(): RestartDecision {
    const now = this.now();
    const o = this.options;
    this.crashTimes = this.crashTimes.filter((t) => now - t < o.windowMs);
    this.crashTimes.push(now);
    const crashesInWindow = this.crashTimes.length;
    if (!o.enabled) return { action: "give-up", reason: "disabled", crashesInWindow };
    if (crashesInWindow >= o.maxCrashes) return { action: "give-up", reason: "crash-loop", crashesInWindow };
    const base = Math.min(o.maxDelayMs, o.initialDelayMs * o.multiplier ** (crashesInWindow - 1));
    const spread = base * o.jitter * (this.random() * 2 - 1);
    const delayMs = Math.max(0, Math.min(o.maxDelayMs, Math.round(base + spread)));
    return { action: "restart", delayMs, crashesInWindow };
  }
}
