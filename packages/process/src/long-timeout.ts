/**
 * A timer for any delay. Node's setTimeout takes at most 2^31-1 ms (about
 * 24.8 days): a longer delay fires after 1 ms, with only a warning, so a job
 * given a 600-hour timeout would be stopped a moment after it started. Long
 * delays are waited out in steps of at most that length.
 */

/** The longest delay Node's setTimeout honours, in milliseconds. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** Options of {@link setLongTimeout}. */
export interface LongTimeoutOptions {
  /** Let the process exit while only this timer is pending (as `timer.unref()`). */
  unref?: boolean;
  /** Where the steps are scheduled; tests pass their own to see them. Default: the global setTimeout. */
  setTimer?: (callback: () => void, delayMs: number) => { unref(): unknown };
  /** The clock the steps are measured against. Default: Date.now. */
  now?: () => number;
}

/**
 * Calls `callback` once `delayMs` have passed, however long that is; returns a
 * function that cancels it. A delay of Infinity never fires; a negative or NaN
 * delay fires at once, as setTimeout treats it.
 */
export function setLongTimeout(callback: () => void, delayMs: number, options: LongTimeoutOptions = {}): () => void {
  const setTimer = options.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
  const now = options.now ?? Date.now;
  const due = now() + (Number.isNaN(delayMs) ? 0 : Math.max(0, delayMs));
  let pending: { unref(): unknown } | undefined;
  let cancelled = false;
  const schedule = (): void => {
    if (cancelled || due === Number.POSITIVE_INFINITY) return;
    const left = due - now();
    if (left <= MAX_TIMER_DELAY_MS) {
      pending = setTimer(
        () => {
          if (!cancelled) callback();
        },
        Math.max(0, left),
      );
    } else {
      pending = setTimer(schedule, MAX_TIMER_DELAY_MS);
    }
    if (options.unref) pending.unref();
  };
  schedule();
  return () => {
    cancelled = true;
    if (pending) clearTimeout(pending as NodeJS.Timeout);
  };
}
