/**
 * Bounded waiting for a job's log stream to drain after the job finished: a
 * log endpoint that keeps its stream open must not keep a finished run from
 * returning.
 */
import type { LogLine } from "./sandbox-runner.js";

/** How long runners wait for a finished job's log to drain. */
export const LOG_DRAIN_TIMEOUT_MS = 10_000;

/** Resolves true when `promise` settles within `ms`, false otherwise; leaves no timer behind. */
export async function waitAtMost(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** How {@link drainLogs} tells a stuck log from a long one. */
export interface DrainOptions {
  /** How long the log may go without progress before reading stops; default LOG_DRAIN_TIMEOUT_MS. */
  readonly idleMs?: number | undefined;
  /** A count that grows as lines arrive: while it grows, the wait goes on. Without it, idleMs is the whole wait. */
  readonly progress?: () => number;
}

/**
 * Waits for a finished job's log to drain: at most LOG_DRAIN_TIMEOUT_MS (or
 * `idleMs`) without progress; then aborts `stop` (which the log reader
 * listens to) and says so in a system warning line. `what` names the job's
 * object, e.g. "Pod flotilla-x-1a2b".
 */
export async function drainLogs(
  logs: Promise<void> | undefined,
  stop: AbortController,
  what: string,
  onLog: (line: LogLine) => unknown,
  options: DrainOptions = {},
): Promise<void> {
  if (!logs) return;
  const idleMs = options.idleMs ?? LOG_DRAIN_TIMEOUT_MS;
  let seen = options.progress?.();
  for (;;) {
    if (await waitAtMost(logs, idleMs)) return;
    const now = options.progress?.();
    if (now === undefined || now === seen) break;
    seen = now;
  }
  stop.abort();
  onLog({
    stream: "system",
    text: `warning: the log of ${what} did not end ${idleMs / 1000} s after it finished${options.progress ? " (no new line in that time)" : ""}; stopped reading it`,
  });
}
