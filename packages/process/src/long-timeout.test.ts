import { describe, expect, it } from "vitest";
import { MAX_TIMER_DELAY_MS, setLongTimeout } from "./long-timeout.js";

/** A clock and timer queue the test moves by hand. */
function manualClock() {
  let time = 0;
  const timers: { due: number; fn: () => void; delay: number; unref: boolean }[] = [];
  return {
    timers,
    now: () => time,
    setTimer: (fn: () => void, delay: number) => {
      const timer = { due: time + delay, fn, delay, unref: false };
      timers.push(timer);
      return {
        unref() {
          timer.unref = true;
        },
      };
    },
    /** Runs the earliest pending timer, advancing the clock to its due time. */
    step() {
      timers.sort((a, b) => a.due - b.due);
      const next = timers.shift();
      if (!next) return false;
      time = next.due;
      next.fn();
      return true;
    },
  };
}

describe("setLongTimeout", () => {
  it("waits out a delay past Node's limit in steps, firing once at the end", () => {
    const clock = manualClock();
    let fired = 0;
    const delay = 597 * 3_600_000; // --timeout 597h, which a plain setTimeout fires after 1 ms
    setLongTimeout(() => fired++, delay, clock);
    expect(clock.timers.map((t) => t.delay)).toEqual([MAX_TIMER_DELAY_MS]);
    while (clock.step()) if (fired === 0) expect(clock.now()).toBeLessThan(delay);
    expect(fired).toBe(1);
    expect(clock.now()).toBe(delay);
  });

  it("uses one plain timer for a delay Node can take", () => {
    const clock = manualClock();
    let fired = 0;
    setLongTimeout(() => fired++, 1500, clock);
    expect(clock.timers.map((t) => t.delay)).toEqual([1500]);
    clock.step();
    expect(fired).toBe(1);
  });

  it("never fires for Infinity, fires at once for a negative or NaN delay, and not at all once cancelled", () => {
    const clock = manualClock();
    let fired = 0;
    setLongTimeout(() => fired++, Number.POSITIVE_INFINITY, clock);
    expect(clock.timers).toHaveLength(0);
    setLongTimeout(() => fired++, -5, clock);
    setLongTimeout(() => fired++, Number.NaN, clock);
    expect(clock.timers.map((t) => t.delay)).toEqual([0, 0]);
    const cancel = setLongTimeout(() => fired++, 3 * MAX_TIMER_DELAY_MS, clock);
    clock.step();
    clock.step();
    expect(fired).toBe(2);
    clock.step();
    cancel();
    while (clock.step()) {}
    expect(fired).toBe(2);
  });

  it("keeps every step unref'd when asked, so a pending timer does not hold the process", () => {
    const clock = manualClock();
    setLongTimeout(() => {}, 2 * MAX_TIMER_DELAY_MS + 10, { ...clock, unref: true });
    clock.step();
    expect(clock.timers.every((t) => t.unref)).toBe(true);
  });

  it("fires on the real clock", async () => {
    const fired = await new Promise<boolean>((resolve) => setLongTimeout(() => resolve(true), 5));
    expect(fired).toBe(true);
  });
});
