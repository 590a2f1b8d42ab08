/**
 * Bounded waiting for a job's log stream to drain after the job finished: a
 * log endpoint that keeps its stream open must not keep a finished run from
 * returning.
 */

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
