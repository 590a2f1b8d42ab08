/**
 * A small typed client for the Argo Workflows server's HTTP API (the
 * grpc-gateway JSON API on port 2746). Every call takes an AbortSignal that
 * aborts the HTTP request itself, not just the wait after it, so a cancelled
 * run stops talking to Argo at once. Throttling, 5xx and lost connections are
 * retried with jittered backoff and Retry-After; other 4xx are not.
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

/** Where an Argo server is and how to authenticate to it. */
export interface ArgoConnection {
  /** Base URL, e.g. https://argo.example.com:2746. */
  readonly baseUrl: string;
  /**
   * The token, if the server requires one: as `argo auth token` prints it and `$ARGO_TOKEN` holds it
   * ("Bearer v2:…" / "Bearer eyJ…", scheme included), or the bare token; the client adds "Bearer " only
   * when the token carries no scheme.
   */
  readonly token?: string;
  readonly retryPolicy?: RetryPolicy;
}

/** The parts of an Argo Workflow this client reads. */
export interface ArgoWorkflow {
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: unknown;
  status?: {
    phase?: string;
    message?: string;
    startedAt?: string;
    finishedAt?: string;
    nodes?: Record<
      string,
      { type?: string; phase?: string; message?: string; finishedAt?: string; outputs?: { exitCode?: string } }
    >;
  };
}

/** An error answer from the Argo server. */
export class ArgoApiError extends Error {
  /** The HTTP status. */
  readonly status: number;
  /** Retry-After in milliseconds, when the server sent it. */
  readonly retryAfterMs: number | undefined;

  constructor(status: number, message: string, retryAfterMs: number | undefined) {
    super(message);
    this.name = "ArgoApiError";
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }
}

/** Client for one Argo server. */
export class ArgoClient {
  readonly #connection: ArgoConnection;

  constructor(connection: ArgoConnection) {
    this.#connection = connection;
  }

  /** Submits a workflow; a name that exists already fails with status 409. */
  createWorkflow(namespace: string, workflow: unknown, signal?: AbortSignal): Promise<ArgoWorkflow> {
    return this.#json("POST", `/api/v1/workflows/${enc(namespace)}`, signal, { namespace, workflow });
  }

  /** Reads one workflow. */
  getWorkflow(namespace: string, name: string, signal?: AbortSignal): Promise<ArgoWorkflow> {
    return this.#json("GET", `/api/v1/workflows/${enc(namespace)}/${enc(name)}`, signal);
  }

  /** Deletes one workflow; one already gone is not an error. */
  async deleteWorkflow(namespace: string, name: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.#json("DELETE", `/api/v1/workflows/${enc(namespace)}/${enc(name)}`, signal);
    } catch (error) {
      if (!(error instanceof ArgoApiError && error.status === 404)) throw error;
    }
  }

  /** Lists the workflows matching a label selector. */
  async listWorkflows(namespace: string, labelSelector: string, signal?: AbortSignal): Promise<ArgoWorkflow[]> {
    const query = new URLSearchParams({ "listOptions.labelSelector": labelSelector });
    const list = await this.#json<{ items?: ArgoWorkflow[] | null }>(
      "GET",
      `/api/v1/workflows/${enc(namespace)}?${query}`,
      signal,
    );
    return list.items ?? [];
  }

  /**
   * Streams the log lines of a workflow's `container`, following while it
   * runs if `follow`. Each entry of the newline-delimited response is
   * `{"result":{"content","podName"}}`; an `{"error":...}` entry throws.
   */
  async *logs(
    namespace: string,
    name: string,
    container: string,
    follow: boolean,
    signal?: AbortSignal,
  ): AsyncGenerator<string> {
    const query = new URLSearchParams({ "logOptions.container": container, "logOptions.follow": String(follow) });
    const response = await this.#send("GET", `/api/v1/workflows/${enc(namespace)}/${enc(name)}/log?${query}`, signal);
    if (!response.body) return;
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of response.body) {
      pending += decoder.decode(chunk as Uint8Array, { stream: true });
      const entries = pending.split("\n");
      pending = entries.pop() ?? "";
      for (const entry of entries) {
        const content = parseLogEntry(entry);
        if (content !== undefined) yield content;
      }
    }
    const last = parseLogEntry(pending);
    if (last !== undefined) yield last;
  }

  async #json<T>(method: string, path: string, signal?: AbortSignal, body?: unknown): Promise<T> {
    const response = await this.#send(method, path, signal, body);
    const text = await response.text();
    return (text ? JSON.parse(text) : {}) as T;
  }

  #send(method: string, path: string, signal?: AbortSignal, body?: unknown): Promise<Response> {
    const attempt = async (): Promise<Response> => {
      const headers: Record<string, string> = { accept: "application/json" };
      if (body !== undefined) headers["content-type"] = "application/json";
      if (this.#connection.token) headers.authorization = authorizationHeader(this.#connection.token);
      const response = await fetch(new URL(path, this.#connection.baseUrl), {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        ...(signal ? { signal } : {}),
      });
      if (response.ok) return response;
      const text = await response.text().catch(() => "");
      let message = text.slice(0, 300);
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? message;
      } catch {
        // Not JSON (a proxy's HTML page): keep the raw start of the body.
      }
      throw new ArgoApiError(
        response.status,
        `Argo server: ${method} ${path.split("?")[0]} failed with HTTP ${response.status}: ${message}`,
        parseRetryAfter(response.headers.get("retry-after")),
      );
    };
    return retrying(attempt, classifyArgoError, this.#connection.retryPolicy ?? DEFAULT_RETRY_POLICY, signal);
  }
}

/**
 * The Authorization header for an Argo token. Argo's tokens carry their scheme: `argo auth token` prints
 * "Bearer …" and the Argo docs set `ARGO_TOKEN="Bearer $(…)"` and send `-H "Authorization: $ARGO_TOKEN"`
 * (argo-workflows docs/access-token.md), so a token that already starts with a scheme is sent as it is;
 * prefixing it again would send "Bearer Bearer …", which the server refuses.
 */
export function authorizationHeader(token: string): string {
  const trimmed = token.trim();
  return /^(?:Bearer|Basic)\s+\S/i.test(trimmed) ? trimmed : `Bearer ${trimmed}`;
}

function classifyArgoError(error: unknown): RetryVerdict {
  if (error instanceof ArgoApiError) {
    return {
      retry: isRetriableStatus(error.status),
      ...(error.retryAfterMs !== undefined ? { afterMs: error.retryAfterMs } : {}),
    };
  }
  return { retry: isNetworkError(error) };
}

function parseLogEntry(entry: string): string | undefined {
  if (!entry.trim()) return undefined;
  const parsed = JSON.parse(entry) as { result?: { content?: string }; error?: { message?: string } };
  if (parsed.error) throw new Error(`Argo log stream error: ${parsed.error.message ?? JSON.stringify(parsed.error)}`);
  return parsed.result?.content;
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}
