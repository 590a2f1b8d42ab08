import { describe, expect, it } from "vitest";
import { formatStampedLine, parseStampedLine, wallClockMicros } from "./stamped-line.js";

describe("stamped lines", () => {
  it("round-trip a sequence number and a microsecond stamp", () => {
    const now = wallClockMicros();
    const parsed = parseStampedLine(formatStampedLine(7, now));
    expect(parsed?.seq).toBe(7);
    expect(Math.abs((parsed?.writtenMicros ?? 0) - now)).toBeLessThanOrEqual(0.5);
  });

  it("ignore any other text, such as a provider's own lines about the job", () => {
    expect(parseStampedLine("job started")).toBeUndefined();
    expect(parseStampedLine("flotilla-log-latency 1 x")).toBeUndefined();
  });

  it("read the wall clock, not a per-process monotonic counter", () => {
    // Within a second of Date.now(): a monotonic-only time would be near zero.
    expect(Math.abs(wallClockMicros() / 1000 - Date.now())).toBeLessThan(1000);
  });
});
