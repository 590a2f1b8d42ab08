import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "./duration.js";

describe("parseDuration", () => {
  it("reads units and combinations", () => {
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("1.5s")).toBe(1500);
    expect(parseDuration("5m")).toBe(300_000);
    expect(parseDuration("1h30m")).toBe(5_400_000);
  });

  it("refuses bare numbers, junk and zero, naming the option", () => {
    expect(() => parseDuration("30", "--timeout")).toThrow(/--timeout: "30" is not a duration; .*"30s"/);
    expect(() => parseDuration("soon")).toThrow(RangeError);
    expect(() => parseDuration("0s")).toThrow(/longer than zero/);
  });
});

describe("formatDuration", () => {
  it("writes durations the way people do", () => {
    expect([formatDuration(350), formatDuration(1500), formatDuration(120_000), formatDuration(3_905_000)]).toEqual([
      "350ms",
      "1.5s",
      "2m",
      "1h5m5s",
    ]);
  });
});
