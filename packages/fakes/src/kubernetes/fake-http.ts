/**
 * What the fakes' HTTP servers share: reading a JSON body, answering JSON,
 * recording every request (so tests can assert what a client sent), and
 * the faults a real API shows under load (throttling, a lost response).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A request the fake received, as the client sent it. */
export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

/** Faults to inject into the next requests. */
export class FaultPlan {
  #throttle: { remaining: number; retryAfterSeconds: number; method?: string } | undefined;
  #loseCreates = 0;

  /** The next `count` requests (of `method`, if given) get 429 with Retry-After. */
  throttleNext(count: number, retryAfterSeconds = 1, method?: string): void {
    this.#throttle = { remaining: count, retryAfterSeconds, ...(method ? { method } : {}) };
  }

  /** The next `count` creates are carried out but their responses are lost (the socket is destroyed). */
  loseNextCreateResponses(count = 1): void {
    this.#loseCreates += count;
  }

  /** Whether this request is throttled; counts it down. */
  takeThrottle(method: string): number | undefined {
    const throttle = this.#throttle;
    if (!throttle || throttle.remaining <= 0 || (throttle.method && throttle.method !== method)) return undefined;
    throttle.remaining -= 1;
    return throttle.retryAfterSeconds;
  }

  /** Whether this create's response is to be lost; counts it down. */
  takeLostCreate(): boolean {
    if (this.#loseCreates <= 0) return false;
    this.#loseCreates -= 1;
    return true;
  }
}

/** A request handler that may answer with a status and JSON, or write to `response` itself. */
export type FakeHandler = (
  request: IncomingMessage,
  url: URL,
  body: string,
  response: ServerResponse,
) => Promise<void> | void;

/** Starts a node:http server on 127.0.0.1:0 that records requests and applies `faults`. */
export async function startFakeServer(
  handler: FakeHandler,
  faults: FaultPlan,
  requests: RecordedRequest[],
): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      requests.push({ method: request.method ?? "GET", url: request.url ?? "/", headers: request.headers, body });
      const url = new URL(request.url ?? "/", "http://fake");
      const retryAfter = faults.takeThrottle(request.method ?? "GET");
      if (retryAfter !== undefined) {
        sendJson(
          response,
          429,
          { code: 429, message: "fake: too many requests, slow down" },
          {
            "retry-after": String(retryAfter),
          },
        );
        return;
      }
      Promise.resolve(handler(request, url, body, response)).catch((error: unknown) => {
        if (!response.headersSent) sendJson(response, 500, { code: 500, message: String(error) });
        else response.destroy();
      });
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}` };
}

/** Answers with a JSON body. */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

/** Closes a server and every connection still open on it (log streams included). */
export async function closeFakeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
