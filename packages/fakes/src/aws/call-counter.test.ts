import { describe, expect, it } from "vitest";
import { CallCounter } from "./call-counter.js";

describe("CallCounter", () => {
  it("counts per operation and resets", () => {
    const calls = new CallCounter();
    calls.record("A");
    calls.record("A");
    calls.record("B");
    expect(calls.snapshot()).toEqual({ A: 2, B: 1 });
    calls.reset();
    expect(calls.count("A")).toBe(0);
  });
});
