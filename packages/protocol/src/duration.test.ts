import { describe, expect, it } from "vitest";
import { formatDuration, MAX_DURATION, parseDuration } from "./duration.js";

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

  it("takes long durations up to a year and refuses longer ones with the range, however many digits", () => {
    expect(parseDuration("597h", "--timeout")).toBe(597 * 3_600_000);
    expect(parseDuration("8760h")).toBe(MAX_DURATION.ms);
    expect(() => parseDuration("8761h", "--timeout")).toThrow(
      '--timeout: "8761h" is longer than 8760h (one year), the longest --timeout allowed',
    );
    // 400 digits is Infinity as a number, which once reached the protobuf Duration as a BigInt error.
    expect(() => parseDuration(`${"9".repeat(400)}s`, "--timeout")).toThrow(/is longer than 8760h \(one year\)/);
    expect(() => parseDuration("2h", "start_timeout", { ms: 3_600_000, name: "1h" })).toThrow(
      'start_timeout: "2h" is longer than 1h, the longest start_timeout allowed',
    );
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
