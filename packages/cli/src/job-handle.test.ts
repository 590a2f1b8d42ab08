import { describe, expect, it } from "vitest";
import { formatJobHandle, parseJobHandle } from "./job-handle.js";

describe("job handles", () => {
  it("round-trips, splitting only at the first colon", () => {
    const handle = { provider: "aws", jobId: "arn:aws:ecs:eu-west-1:1:task/c/abc" };
    expect(parseJobHandle(formatJobHandle(handle))).toEqual(handle);
  });

  it("rejects strings that are not PROVIDER:JOB_ID", () => {
    for (const bad of ["local", "local:", ":abc", "Local:abc"]) {
      expect(() => parseJobHandle(bad)).toThrow(/is not PROVIDER:JOB_ID/);
    }
  });
});
