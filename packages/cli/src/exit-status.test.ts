import { JobState } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import { EXIT_CANCELLED, EXIT_JOB_FAILED, exitCodeForStatus, stateName } from "./exit-status.js";

describe("exitCodeForStatus", () => {
  it("passes the job's own exit code through", () => {
    expect(exitCodeForStatus({ state: JobState.SUCCEEDED, exitCode: 0 })).toBe(0);
    expect(exitCodeForStatus({ state: JobState.FAILED, exitCode: 7 })).toBe(7);
  });

  it("uses 130 for cancelled jobs and 1 for failures without an exit code", () => {
    expect(exitCodeForStatus({ state: JobState.CANCELLED, exitCode: undefined })).toBe(EXIT_CANCELLED);
    expect(exitCodeForStatus({ state: JobState.FAILED, exitCode: undefined })).toBe(EXIT_JOB_FAILED);
    expect(exitCodeForStatus({ state: JobState.UNKNOWN, exitCode: undefined })).toBe(EXIT_JOB_FAILED);
    expect(stateName(JobState.FAILED)).toBe("FAILED");
  });
});
