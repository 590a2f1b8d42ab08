import { describe, expect, it } from "vitest";
import { RequestBudget } from "./request-budget.js";

/** A budget on a manual clock: sleeping moves the clock, so nothing here depends on real time. */
function manual(ratePerSecond: number, burst?: number) {
  let now = 0;
  const slept: number[] = [];
  const budget = new RequestBudget({
    ratePerSecond,
    ...(burst !== undefined ? { burst } : {}),
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  });
  return { budget, slept, advance: (ms: number) => (now += ms), now: () => now };
}

describe("RequestBudget", () => {
  it("lets a burst through at once, then one request per 1/rate seconds", async () => {
    const { budget, slept } = manual(10, 3);
    for (let i = 0; i < 3; i++) await budget.take();
    expect(slept).toEqual([]);
    await budget.take();
    expect(slept).toEqual([100]);
    await budget.take();
    expect(slept).toEqual([100, 100]);
  });

  it("keeps many concurrent callers inside the rate: each waits its turn, first come first served", async () => {
    let now = 0;
    const granted: Array<{ who: number; at: number }> = [];
    const budget = new RequestBudget({
      ratePerSecond: 4,
      now: () => now,
      // Each waiter is released when the clock reaches its turn; the clock only moves forward.
      sleep: async (ms) => {
        const due = now + ms;
        await Promise.resolve();
        now = Math.max(now, due);
      },
    });
    await Promise.all(
      Array.from({ length: 8 }, async (_, who) => {
        await budget.take();
        granted.push({ who, at: now });
      }),
    );
    expect(granted.map((g) => g.who)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // 8 requests at 4 per second with a burst of 1: the last goes out 7/4 s after the first.
    expect(Math.max(...granted.map((g) => g.at))).toBe(1750);
  });

  it("refills while idle, but never beyond the burst", async () => {
    const { budget, slept, advance } = manual(1, 2);
    await budget.take();
    await budget.take();
    advance(60_000);
    await budget.take();
    await budget.take();
    expect(slept).toEqual([]);
    await budget.take();
    expect(slept).toEqual([1000]);
  });

  it("holds later callers back after backOff", async () => {
    const { budget, slept } = manual(10, 1);
    budget.backOff(2000);
    await budget.take();
    expect(slept).toEqual([2100]);
  });

  it("holds back for the longest of several back-offs, not their sum", async () => {
    const { budget, slept } = manual(10, 1);
    for (let i = 0; i < 30; i++) budget.backOff(1000);
    budget.backOff(2000);
    await budget.take();
    expect(slept).toEqual([2100]);
  });

  it("rejects with the signal's reason and gives the token back when the wait is aborted", async () => {
    let now = 0;
    const controller = new AbortController();
    const budget = new RequestBudget({
      ratePerSecond: 1,
      now: () => now,
      sleep: async () => controller.abort(new Error("caller went away")),
    });
    await budget.take();
    await expect(budget.take(controller.signal)).rejects.toThrow("caller went away");
    now = 1000;
    // The aborted caller's token went back: one second later the next caller goes at once.
    let waited = false;
    (budget as unknown as { sleep: () => Promise<void> }).sleep = async () => {
      waited = true;
    };
    await budget.take();
    expect(waited).toBe(false);
  });

  it("gives the token back too when the wait rejects on abort, as the default sleep does", async () => {
    const slept: number[] = [];
    const budget = new RequestBudget({
      ratePerSecond: 1,
      now: () => 0,
      sleep: (ms, signal) => {
        slept.push(ms);
        // The first wait is aborted (rejecting, like @flotilla/process's sleep); later ones pass.
        if (!signal) return Promise.resolve();
        return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
      },
    });
    await budget.take();
    const controller = new AbortController();
    const waiting = budget.take(controller.signal);
    controller.abort(new Error("caller went away"));
    await expect(waiting).rejects.toThrow("caller went away");
    // Had the aborted caller kept its token, the next one would wait two seconds, not one.
    await budget.take();
    expect(slept).toEqual([1000, 1000]);
  });

  it("refuses an already aborted signal without taking a token", async () => {
    const { budget, slept } = manual(1, 1);
    await expect(budget.take(AbortSignal.abort(new Error("gone")))).rejects.toThrow("gone");
    await budget.take();
    expect(slept).toEqual([]);
  });

  it("waits on a real timer by default", async () => {
    const budget = new RequestBudget({ ratePerSecond: 1000 });
    await budget.take();
    await expect(budget.take()).resolves.toBeUndefined();
  });

  it.each([
    [{ ratePerSecond: 0 }, /ratePerSecond must be a finite number > 0, got 0/],
    [{ ratePerSecond: Number.NaN }, /ratePerSecond/],
    [{ ratePerSecond: 1, burst: 0 }, /burst must be an integer >= 1, got 0/],
    [{ ratePerSecond: 1, burst: 1.5 }, /burst/],
  ])("refuses %o", (options, message) => {
    expect(() => new RequestBudget(options)).toThrow(message);
  });

  it("refuses a negative back-off", () => {
    expect(() => new RequestBudget({ ratePerSecond: 1 }).backOff(-1)).toThrow(/ms must be a finite number >= 0/);
  });
});
