/**
 * The inline HTTP executor: an HTTP call run as a task, in the host, with no
 * container. Unlike the seed it came from, it retries only what is worth
 * retrying (network failures, 408, 429, 5xx — never another 4xx), backs off
 * exponentially with full jitter, honours Retry-After, and fails loudly with
 * {@link ResponseTooLargeError} when a response exceeds its size limit
 * instead of truncating it. A request whose method is not idempotent (POST,
 * PATCH, …) is retried only when the task declares an idempotency key, since
 * a 5xx or a lost response does not say whether the endpoint already acted:
 * retrying could run the task twice.
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
  /**
   * Declares that the endpoint deduplicates repeats of this request by this key; sent as the
   * `Idempotency-Key` header (IETF draft-ietf-httpapi-idempotency-key-header) unless `headers` has one.
   * Only with a key is a request with a non-idempotent method (POST, PATCH, …) retried.
   */
  readonly idempotencyKey?: string;
}

/**
 * The idempotent methods of RFC 9110 §9.2.2 ("PUT, DELETE, and safe request methods are idempotent"; the safe
 * ones are GET, HEAD, OPTIONS and TRACE, §9.2.1). §9.2.2 also says a client "SHOULD NOT automatically retry a
 * request with a non-idempotent method unless it has some means to know that the request semantics are
 * actually idempotent … or some means to detect that the original request was never applied".
 */
const IDEMPOTENT_METHODS = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);

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
    notRetried = isRetriableStatus(status) ? "" : "the request itself was refused",
  ) {
    super(
      `HTTP task ${method} ${redactUrl(url)} failed with HTTP ${status} after ${attempts} attempt${attempts === 1 ? "" : "s"}${
        notRetried ? ` (not retried: ${notRetried})` : ""
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
    const method = request.method.toUpperCase();
    const repeatable = IDEMPOTENT_METHODS.has(method) || Boolean(request.idempotencyKey);
    try {
      return await retrying(
        async (attempt) => {
          attempts = attempt;
          return await this.#once(request, limit, attempt, clock.signal);
        },
        // Without idempotency only a connection that was refused is retried: the request never reached the endpoint.
        (error) => (repeatable || isRefusedConnection(error) ? classify(error) : { retry: false }),
        this.#options.retryPolicy ?? DEFAULT_RETRY_POLICY,
        clock.signal,
      );
    } catch (error) {
      if (clock.stopReason) throw new HttpTaskStoppedError(request.method, request.url, clock.stopReason);
      const unsafe = `${method} is not idempotent and the task declares no idempotencyKey, so the endpoint may have acted already; set an idempotencyKey the endpoint honours to allow retries`;
      if (error instanceof HttpStatusError) {
        if (repeatable || !isRetriableStatus(error.status)) throw error;
        throw new HttpStatusError(
          request.method,
          request.url,
          error.status,
          error.bodyExcerpt,
          error.attempts,
          error.retryAfterMs,
          unsafe,
        );
      }
      if (error instanceof ResponseTooLargeError) throw error;
      const retried =
        repeatable || isRefusedConnection(error) || !isNetworkError(error) ? "" : ` (not retried: ${unsafe})`;
      throw new Error(
        `HTTP task ${request.method} ${redactUrl(request.url)} failed after ${attempts} attempt${attempts === 1 ? "" : "s"}${retried}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    } finally {
      clock.dispose();
    }
  }

  async #once(request: HttpTaskRequest, limit: number, attempt: number, signal: AbortSignal): Promise<HttpTaskResult> {
    const headers = new Headers(request.headers);
    if (request.idempotencyKey && !headers.has("idempotency-key"))
      headers.set("idempotency-key", request.idempotencyKey);
    const response = await fetch(request.url, {
      method: request.method,
      headers,
      ...(request.body !== undefined ? { body: request.body } : {}),
      signal,
    });
    const responseHeaders = Object.fromEntries(response.headers.entries());
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
    return { status: response.status, headers: responseHeaders, body, attempts: attempt };
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

/** A connection the endpoint refused: the request was never sent, so repeating it cannot apply it twice. */
function isRefusedConnection(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && typeof current === "object" && depth < 5; depth++) {
    if ((current as { code?: unknown }).code === "ECONNREFUSED") return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
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
