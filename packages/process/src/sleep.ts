/**
 * The one signal-aware sleep: waits out a delay, or stops waiting the moment
 * the caller's AbortSignal aborts (a cancelled call, a plugin shutting down),
 * so no loop that polls a cloud keeps a cancelled call alive for another
 * interval. Any delay works, however long (see setLongTimeout).
 */
import { setLongTimeout } from "./long-timeout.js";

/** Resolves after `ms`; rejects with `signal.reason` as soon as `signal` aborts (at once if it already has). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      cancel();
      reject(signal?.reason);
    };
    const cancel = setLongTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
