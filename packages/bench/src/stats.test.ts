import { describe, expect, it } from "vitest";
import { percentile, ratio, summarize } from "./stats.js";

describe("percentile", () => {
  it("uses the nearest rank, never an interpolated value", () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile(sorted, 100)).toBe(100);
    expect(percentile([7, 9], 50)).toBe(7);
  });

  it("rejects an empty sample and an out-of-range p with a message naming the problem", () => {
    expect(() => percentile([], 50)).toThrow(/no samples/);
    expect(() => percentile([1], 0)).toThrow(/p must be/);
  });
});

describe("summarize", () => {
  it("sorts a copy and reports p50, p99 and mean", () => {
    const samples = [5, 1, 3, 2, 4];
    const summary = summarize(samples);
    expect(summary).toEqual({ count: 5, p50: 3, p99: 5, mean: 3 });
    expect(samples).toEqual([5, 1, 3, 2, 4]);
  });
});

describe("ratio", () => {
  it("divides by the baseline and refuses a zero baseline", () => {
    expect(ratio(150, 100)).toBe(1.5);
    expect(() => ratio(1, 0)).toThrow(/baseline must be a positive number/);
  });
});
