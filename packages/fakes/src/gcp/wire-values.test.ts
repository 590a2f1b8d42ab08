import { describe, expect, it } from "vitest";
import { durationMs, toDuration, toTimestamp } from "./wire-values.js";

describe("wire values", () => {
  it("converts milliseconds to Timestamp and Duration and back", () => {
    expect(toTimestamp(1_500)).toEqual({ seconds: "1", nanos: 500_000_000 });
    expect(toDuration(2_250)).toEqual({ seconds: "2", nanos: 250_000_000 });
    expect(durationMs({ seconds: "3", nanos: 1_000_000 })).toBe(3001);
    expect(durationMs(undefined)).toBeUndefined();
  });
});
