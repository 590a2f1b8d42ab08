/**
 * Retrying done right (the seeds' executor retried 4xx responses and backed
 * off without jitter): only errors worth retrying are retried, delays grow
 * exponentially with full jitter, and a server's Retry-After is honoured.
 */

import { sleep } from "@flotilla/process";

/** How often and how long to retry. */
export interface RetryPolicy {
  /** Total tries including the first. */
  readonly maxAttempts: number;
  /** The delay cap before jitter for the first retry; doubles each retry. */
  readonly baseDelayMs: number;
  /** Upper bound on any one delay, Retry-After included. */
  readonly maxDelayMs: number;
  /** Source of randomness in [0, 1); injectable for tests. */
  readonly random?: () => number;
}

/** The default: 5 tries, 200 ms doubling up to 10 s. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 10_000 };

/** A classifier's verdict on one failure. */
export interface RetryVerdict {
  readonly retry: boolean;
  /** The server's own wait (Retry-After), used instead of the backoff when set. */
  readonly afterMs?: number;
}

/** "Full jitter" backoff: a uniform random delay in [0, min(max, base * 2^retry)). */
export function backoffDelay(retry: number, policy: RetryPolicy): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.floor((policy.random ?? Math.random)() * cap);
}

/**
 * HTTP statuses worth retrying: 408 and 429, and 5xx except 501 (not
 * implemented) and 505 (version not supported), which will not change. No
 * other 4xx: the request itself is wrong and sending it again cannot help.
 */
export function isRetriableStatus(status: number): boolean {
  if (status === 408 || status === 429) return true;
  return status >= 500 && status <= 599 && status !== 501 && status !== 505;
}

/** Parses a Retry-After header (delta seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Runs `operation` until it succeeds, `classify` says a failure is not worth
 * retrying, the policy's tries run out, or `signal` aborts. Rethrows the last
 * failure unchanged.
 */
export async function retrying<T>(
  operation: (attempt: number) => Promise<T>,
  classify: (error: unknown) => RetryVerdict,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  signal?: AbortSignal,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (signal?.aborted || attempt >= policy.maxAttempts) throw error;
      const verdict = classify(error);
      if (!verdict.retry) throw error;
      const delay = Math.min(policy.maxDelayMs, verdict.afterMs ?? backoffDelay(attempt - 1, policy));
      await sleep(delay, signal);
    }
  }
}

/** Whether an error is a network-level failure (reset, refused, lost response) worth retrying. */
export function isNetworkError(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === "object" && !seen.has(current)) {
    seen.add(current);
    const code = (current as { code?: unknown }).code;
    if (
      typeof code === "string" &&
      /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|UND_ERR_SOCKET|UND_ERR_CLOSED)$/.test(code)
    )
      return true;
    if (current instanceof TypeError && /fetch failed|terminated|other side closed/i.test(current.message)) return true;
    if (current instanceof Error && /socket hang up|other side closed/i.test(current.message)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
