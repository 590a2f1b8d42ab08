/**
 * The inline HTTP executor: an HTTP call run as a task, in the host, with no
 * container. Unlike the seed it came from, it retries only what is worth
 * retrying (network failures, 408, 429, 5xx — never another 4xx), backs off
 * exponentially with full jitter, honours Retry-After, and fails loudly with
 * {@link ResponseTooLargeError} when a response exceeds its size limit
 * instead of truncating it.
 */
import {
  DEFAULT_RETRY_POLICY,
  isNetworkError,
  isRetriableStatus,
  parseRetryAfter,
  type RetryPolicy,
  type RetryVerdict,
  retrying,
} from "./retry.js";
import { RunClock } from "./run-clock.js";

/** One HTTP call to make. */
export interface HttpTaskRequest {
  readonly method: string;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  /** Bound on the whole task, retries included. */
  readonly timeoutMs?: number;
  /** Largest response body accepted. Default 10 MiB. */
  readonly maxResponseBytes?: number;
}

/** The successful response. */
export interface HttpTaskResult {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
  /** How many tries it took. */
  readonly attempts: number;
}

/** The call answered with a status outside 2xx (after any retries). */
export class HttpStatusError extends Error {
  readonly status: number;
  readonly attempts: number;
  /** The start of the response body, for diagnosis. */
  readonly bodyExcerpt: string;
  readonly retryAfterMs: number | undefined;

  constructor(
    method: string,
    url: string,
    status: number,
    bodyExcerpt: string,
    attempts: number,
    retryAfterMs: number | undefined,
  ) {
    super(
      `HTTP task ${method} ${redactUrl(url)} failed with HTTP ${status} after ${attempts} attempt${attempts === 1 ? "" : "s"}${
        isRetriableStatus(status) ? "" : " (not retried: the request itself was refused)"
      }: ${bodyExcerpt}`,
    );
    this.name = "HttpStatusError";
    this.status = status;
    this.attempts = attempts;
    this.bodyExcerpt = bodyExcerpt;
    this.retryAfterMs = retryAfterMs;
  }
}

/** The response body was larger than the limit; nothing was truncated. */
export class ResponseTooLargeError extends Error {
  readonly limitBytes: number;

  constructor(method: string, url: string, limitBytes: number, seenBytes: number) {
    super(
      `HTTP task ${method} ${redactUrl(url)}: the response body exceeds the limit of ${limitBytes} bytes (at least ${seenBytes} bytes); raise maxResponseBytes or ask the endpoint for less`,
    );
    this.name = "ResponseTooLargeError";
    this.limitBytes = limitBytes;
  }
}

/** The task was cancelled or timed out. */
export class HttpTaskStoppedError extends Error {
  readonly reason: "timeout" | "cancelled";

  constructor(method: string, url: string, reason: "timeout" | "cancelled") {
    super(`HTTP task ${method} ${redactUrl(url)} was ${reason === "timeout" ? "stopped by its timeout" : "cancelled"}`);
    this.name = "HttpTaskStoppedError";
    this.reason = reason;
  }
}

/** Options of the executor. */
export interface HttpExecutorOptions {
  readonly retryPolicy?: RetryPolicy;
  /** Default for requests that set no maxResponseBytes. Default 10 MiB. */
  readonly maxResponseBytes?: number;
}

/** Runs HTTP calls as tasks. */
export class HttpExecutor {
  readonly kind = "http";
  readonly #options: HttpExecutorOptions;

  constructor(options: HttpExecutorOptions = {}) {
    this.#options = options;
  }

  /** Makes the call, retrying transient failures; rejects with one of this module's errors otherwise. */
  async execute(request: HttpTaskRequest, options: { signal?: AbortSignal } = {}): Promise<HttpTaskResult> {
    const clock = new RunClock(options.signal, request.timeoutMs);
    const limit = request.maxResponseBytes ?? this.#options.maxResponseBytes ?? 10 * 1024 * 1024;
    let attempts = 0;
    try {
      return await retrying(
        async (attempt) => {
          attempts = attempt;
          return await this.#once(request, limit, attempt, clock.signal);
        },
        classify,
        this.#options.retryPolicy ?? DEFAULT_RETRY_POLICY,
        clock.signal,
      );
    } catch (error) {
      if (clock.stopReason) throw new HttpTaskStoppedError(request.method, request.url, clock.stopReason);
      if (error instanceof HttpStatusError || error instanceof ResponseTooLargeError) throw error;
      throw new Error(
        `HTTP task ${request.method} ${redactUrl(request.url)} failed after ${attempts} attempt${attempts === 1 ? "" : "s"}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    } finally {
      clock.dispose();
    }
  }

  async #once(request: HttpTaskRequest, limit: number, attempt: number, signal: AbortSignal): Promise<HttpTaskResult> {
    const response = await fetch(request.url, {
      method: request.method,
      ...(request.headers ? { headers: request.headers } : {}),
      ...(request.body !== undefined ? { body: request.body } : {}),
      signal,
    });
    const headers = Object.fromEntries(response.headers.entries());
    const declared = Number(response.headers.get("content-length") ?? Number.NaN);
    if (declared > limit) {
      await response.body?.cancel();
      throw new ResponseTooLargeError(request.method, request.url, limit, declared);
    }
    const body = await readLimited(response, limit, request);
    if (!response.ok) {
      throw new HttpStatusError(
        request.method,
        request.url,
        response.status,
        new TextDecoder().decode(body.subarray(0, 300)),
        attempt,
        parseRetryAfter(response.headers.get("retry-after")),
      );
    }
    return { status: response.status, headers, body, attempts: attempt };
  }
}

function classify(error: unknown): RetryVerdict {
  if (error instanceof HttpStatusError) {
    return {
      retry: isRetriableStatus(error.status),
      ...(error.retryAfterMs !== undefined ? { afterMs: error.retryAfterMs } : {}),
    };
  }
  if (error instanceof ResponseTooLargeError) return { retry: false };
  return { retry: isNetworkError(error) };
}

/** Reads the body, failing as soon as it passes `limit` bytes (chunked responses declare no length). */
async function readLimited(response: Response, limit: number, request: HttpTaskRequest): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw new ResponseTooLargeError(request.method, request.url, limit, total);
    }
    chunks.push(value);
  }
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/** Drops credentials and the query string (which may carry tokens) from a URL shown in messages. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}${parsed.search ? "?…" : ""}`;
  } catch {
    return "<invalid URL>";
  }
}
