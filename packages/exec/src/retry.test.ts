import { describe, expect, it } from "vitest";
import { backoffDelay, isNetworkError, isRetriableStatus, parseRetryAfter, retrying } from "./retry.js";

describe("isRetriableStatus", () => {
  it("retries 408, 429 and 5xx but never another 4xx, 501 or 505", () => {
    expect([408, 429, 500, 502, 503, 504].every(isRetriableStatus)).toBe(true);
    expect([400, 401, 403, 404, 409, 413, 422, 501, 505, 200, 304].some(isRetriableStatus)).toBe(false);
  });
});

describe("backoffDelay", () => {
  it("grows exponentially under a cap, with full jitter", () => {
    const policy = { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 1000 };
    expect([0, 1, 2, 3, 4].map((retry) => backoffDelay(retry, { ...policy, random: () => 0.999 }))).toEqual([
      99, 199, 399, 799, 999,
    ]);
    expect(backoffDelay(3, { ...policy, random: () => 0 })).toBe(0);
    const samples = new Set(Array.from({ length: 20 }, () => backoffDelay(5, policy)));
    expect(samples.size).toBeGreaterThan(1);
  });
});

describe("parseRetryAfter", () => {
  it("reads delta seconds and HTTP dates", () => {
    expect(parseRetryAfter("3")).toBe(3000);
    const now = Date.parse("2026-11-23T10:00:00Z");
    expect(parseRetryAfter("Mon, 23 Nov 2026 10:00:05 GMT", now)).toBe(5000);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});

describe("retrying", () => {
  const policy = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5 };

  it("retries what the classifier allows until success", async () => {
    let calls = 0;
    const value = await retrying(
      async () => {
        calls += 1;
        if (calls < 3) throw new Error("transient");
        return "ok";
      },
      () => ({ retry: true }),
      policy,
    );
    expect([value, calls]).toEqual(["ok", 3]);
  });

  it("stops at once on an error not worth retrying, and after maxAttempts otherwise", async () => {
    let calls = 0;
    await expect(
      retrying(
        async () => {
          calls += 1;
          throw new Error("400");
        },
        () => ({ retry: false }),
        policy,
      ),
    ).rejects.toThrow("400");
    expect(calls).toBe(1);
    calls = 0;
    await expect(
      retrying(
        async () => {
          calls += 1;
          throw new Error("503");
        },
        () => ({ retry: true }),
        policy,
      ),
    ).rejects.toThrow("503");
    expect(calls).toBe(4);
  });

  it("waits the server's Retry-After instead of its own backoff", async () => {
    let calls = 0;
    const started = Date.now();
    await retrying(
      async () => {
        calls += 1;
        if (calls === 1) throw new Error("429");
      },
      () => ({ retry: true, afterMs: 300 }),
      { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 10_000 },
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });
});

describe("isNetworkError", () => {
  it("recognises connection failures through cause chains", () => {
    expect(
      isNetworkError(new TypeError("fetch failed", { cause: Object.assign(new Error("x"), { code: "ECONNREFUSED" }) })),
    ).toBe(true);
    expect(isNetworkError(Object.assign(new Error("reset"), { code: "ECONNRESET" }))).toBe(true);
    expect(isNetworkError(new Error("HTTP 400"))).toBe(false);
  });
});
