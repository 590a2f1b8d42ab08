import { InvalidArgumentError } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import { jobTimeoutMs } from "./job-timeout.js";

const duration = (seconds: bigint, nanos = 0) => ({ seconds, nanos }) as never;

describe("jobTimeoutMs", () => {
  it("reads unset and zero as no limit, and anything positive as milliseconds, however long", () => {
    expect(jobTimeoutMs(undefined)).toBeUndefined();
    expect(jobTimeoutMs(duration(0n))).toBeUndefined();
    expect(jobTimeoutMs(duration(2n, 500_000_000))).toBe(2500);
    // A positive timeout under a millisecond still limits the job.
    expect(jobTimeoutMs(duration(0n, 1))).toBe(1);
    expect(jobTimeoutMs(duration(600n * 3600n))).toBe(600 * 3_600_000);
  });

  it("refuses a negative timeout, naming the field", () => {
    expect(() => jobTimeoutMs(duration(-1n), "spec.timeout")).toThrow(InvalidArgumentError);
    expect(() => jobTimeoutMs(duration(-1n), "spec.timeout")).toThrow(
      "spec.timeout: negative (-1000 ms); give a positive duration, or none for no limit",
    );
    expect(() => jobTimeoutMs(duration(0n, -5))).toThrow(/^JobSpec\.timeout: negative/);
  });
});
