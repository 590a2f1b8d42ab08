import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { HttpExecutor, HttpStatusError, ResponseTooLargeError } from "./http-executor.js";

describe("HttpExecutor", () => {
  let server: Server;
  let base: string;
  let hits: number;
  let handler: (request: IncomingMessage, response: ServerResponse) => void;
  const fast = new HttpExecutor({ retryPolicy: { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 2000 } });

  beforeAll(async () => {
    server = createServer((request, response) => {
      hits += 1;
      handler(request, response);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(() => {
    hits = 0;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("sends the method, headers and body and returns the response", async () => {
    handler = (request, response) => {
      let body = "";
      request.on("data", (chunk) => {
        body += chunk;
      });
      request.on("end", () => response.end(`${request.method} ${request.headers["x-task"]} ${body}`));
    };
    const result = await fast.execute({
      method: "POST",
      url: `${base}/task`,
      headers: { "x-task": "t1" },
      body: "payload",
    });
    expect(new TextDecoder().decode(result.body)).toBe("POST t1 payload");
    expect(result.attempts).toBe(1);
  });

  it.each([400, 401, 403, 404, 409, 422])("does not retry %i", async (status) => {
    handler = (_request, response) => {
      response.writeHead(status);
      response.end("nope");
    };
    const error = await fast.execute({ method: "GET", url: `${base}/x` }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpStatusError);
    expect((error as HttpStatusError).status).toBe(status);
    expect((error as Error).message).toContain("not retried: the request itself was refused");
    expect(hits).toBe(1);
  });

  it.each([408, 429, 500, 503])("retries %i and succeeds when the endpoint recovers", async (status) => {
    handler = (_request, response) => {
      if (hits < 3) {
        response.writeHead(status);
        response.end("busy");
      } else response.end("ok");
    };
    const result = await fast.execute({ method: "GET", url: `${base}/x` });
    expect([result.attempts, hits]).toEqual([3, 3]);
  });

  it.each(["POST", "PATCH"])(
    "does not retry %s after a 5xx: the endpoint may have run the task already",
    async (method) => {
      handler = (_request, response) => {
        response.writeHead(503);
        response.end("busy");
      };
      const error = await fast.execute({ method, url: `${base}/run`, body: "task" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HttpStatusError);
      expect((error as HttpStatusError).attempts).toBe(1);
      expect((error as Error).message).toContain(
        `(not retried: ${method} is not idempotent and the task declares no idempotencyKey, so the endpoint may have acted already; set an idempotencyKey the endpoint honours to allow retries)`,
      );
      expect(hits).toBe(1);
    },
  );

  it("does not retry a POST whose response was lost", async () => {
    handler = (request, response) => {
      // The endpoint reads the request (and could have acted on it), then the connection drops.
      request.resume();
      request.on("end", () => response.socket?.destroy());
    };
    await expect(fast.execute({ method: "POST", url: `${base}/run`, body: "task" })).rejects.toThrow(
      /failed after 1 attempt \(not retried: POST is not idempotent/,
    );
    expect(hits).toBe(1);
  });

  it("retries a POST that declares an idempotency key, sending the same Idempotency-Key each time", async () => {
    const keys: (string | undefined)[] = [];
    handler = (request, response) => {
      keys.push(request.headers["idempotency-key"] as string | undefined);
      if (hits < 3) {
        response.writeHead(502);
        response.end("bad gateway");
      } else response.end("ok");
    };
    const result = await fast.execute({ method: "POST", url: `${base}/run`, body: "task", idempotencyKey: "job-42" });
    expect(result.attempts).toBe(3);
    expect(keys).toEqual(["job-42", "job-42", "job-42"]);
  });

  it.each(["PUT", "DELETE", "HEAD"])("retries %s, idempotent by RFC 9110, after a 5xx", async (method) => {
    handler = (_request, response) => {
      if (hits < 2) response.writeHead(500);
      response.end();
    };
    const result = await fast.execute({ method, url: `${base}/x` });
    expect(result.attempts).toBe(2);
  });

  it("honours Retry-After", async () => {
    const times: number[] = [];
    handler = (_request, response) => {
      times.push(Date.now());
      if (hits === 1) {
        response.writeHead(429, { "retry-after": "1" });
        response.end();
      } else response.end("ok");
    };
    await fast.execute({ method: "GET", url: `${base}/x` });
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it("gives up after maxAttempts with the last status", async () => {
    handler = (_request, response) => {
      response.writeHead(502);
      response.end("bad gateway");
    };
    await expect(fast.execute({ method: "GET", url: `${base}/x` })).rejects.toMatchObject({ status: 502, attempts: 4 });
    expect(hits).toBe(4);
  });

  it("fails loudly on a body over the limit, declared or chunked, instead of truncating", async () => {
    handler = (_request, response) => {
      response.setHeader("content-length", 2048);
      response.end("x".repeat(2048));
    };
    await expect(fast.execute({ method: "GET", url: `${base}/big`, maxResponseBytes: 1024 })).rejects.toBeInstanceOf(
      ResponseTooLargeError,
    );
    handler = (_request, response) => {
      response.write("x".repeat(800));
      setTimeout(() => response.end("y".repeat(800)), 20);
    };
    const error = await fast
      .execute({ method: "GET", url: `${base}/chunked`, maxResponseBytes: 1024 })
      .catch((e: Error) => e);
    expect(error).toBeInstanceOf(ResponseTooLargeError);
    expect((error as Error).message).toMatch(/exceeds the limit of 1024 bytes .*raise maxResponseBytes/);
    expect(hits).toBe(2);
  });

  it("keeps query strings (which may carry tokens) out of error messages", async () => {
    handler = (_request, response) => {
      response.writeHead(403);
      response.end();
    };
    const error = await fast.execute({ method: "GET", url: `${base}/x?token=abc123` }).catch((e: Error) => e);
    expect((error as Error).message).not.toContain("abc123");
  });

  it("retries a connection that is refused, then reports it", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(fast.execute({ method: "GET", url: `http://127.0.0.1:${port}/` })).rejects.toThrow(
      /failed after 4 attempts/,
    );
    // A refused connection never carried the request, so even a POST without a key is retried.
    await expect(fast.execute({ method: "POST", url: `http://127.0.0.1:${port}/`, body: "x" })).rejects.toThrow(
      /failed after 4 attempts: /,
    );
  });
});
