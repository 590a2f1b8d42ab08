import { describe, expect, it } from "vitest";
import { FakeClock } from "./clock.js";

describe("FakeClock", () => {
  it("follows the wall clock and jumps forward on advance", () => {
    const clock = new FakeClock();
    const before = Date.now();
    clock.advance(60_000);
    expect(clock.now()).toBeGreaterThanOrEqual(before + 60_000);
    expect(() => clock.advance(-1)).toThrow(RangeError);
  });

  it("once stopped, moves only on advance", async () => {
    const clock = new FakeClock();
    clock.stop();
    const stopped = clock.now();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(clock.now()).toBe(stopped);
    clock.advance(1_000);
    expect(clock.now()).toBe(stopped + 1_000);
  });
});
