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

/**
 * Waits for a finished job's log to drain, at most LOG_DRAIN_TIMEOUT_MS; then
 * aborts `stop` (which the log reader listens to) and says so in a system
 * warning line. `what` names the job's object, e.g. "Pod flotilla-x-1a2b".
 */
export async function drainLogs(
  logs: Promise<void> | undefined,
  stop: AbortController,
  what: string,
  onLog: (line: LogLine) => void,
): Promise<void> {
  if (!logs || (await waitAtMost(logs, LOG_DRAIN_TIMEOUT_MS))) return;
  stop.abort();
  onLog({
    stream: "system",
    text: `warning: the log of ${what} did not end ${LOG_DRAIN_TIMEOUT_MS / 1000} s after it finished; stopped reading it`,
  });
}
