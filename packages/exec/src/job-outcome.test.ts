import { JobState } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import { exitCodeForStatus, isTerminalJobState, jobOutcome, jobStateName } from "./job-outcome.js";

describe("jobOutcome: one mapping from a terminal JobStatus to an exit code", () => {
  it("passes the job's own exit code through", () => {
    expect(jobOutcome({ state: JobState.SUCCEEDED, exitCode: 0, reason: "" })).toEqual({
      exitCode: 0,
      reason: "exited",
      message: "",
    });
    expect(jobOutcome({ state: JobState.FAILED, exitCode: 7, reason: "" })).toEqual({
      exitCode: 7,
      reason: "exited",
      message: "",
    });
    expect(exitCodeForStatus({ state: JobState.SUCCEEDED, exitCode: undefined, reason: "" })).toBe(0);
  });

  // The CLI's old mapping agreed; the provider runner's did not (it ended a FAILED job with exit code 0).
  it("never ends a FAILED job with exit code 0: 1, with the reason", () => {
    expect(jobOutcome({ state: JobState.FAILED, exitCode: 0, reason: "OutOfMemoryError: container killed" })).toEqual({
      exitCode: 1,
      reason: "failed",
      message: "the provider reports the job FAILED although its exit code is 0: OutOfMemoryError: container killed",
    });
    expect(jobOutcome({ state: JobState.FAILED, exitCode: undefined, reason: "CannotPullContainerError" })).toEqual({
      exitCode: 1,
      reason: "failed",
      message: "the provider reports the job failed: CannotPullContainerError",
    });
  });

  // The provider runner's old mapping passed a cancelled job's exit code through (0 or 143); the CLI's said 130.
  it("ends a CANCELLED job with 130 whatever exit code its killed process had", () => {
    for (const exitCode of [undefined, 0, 143]) {
      expect(jobOutcome({ state: JobState.CANCELLED, exitCode, reason: "" })).toEqual({
        exitCode: 130,
        reason: "cancelled",
        message: "the job was cancelled on the provider",
      });
    }
  });

  // The runner's old mapping ignored an UNKNOWN job's exit code; the CLI's passed a non-zero one through.
  it("ends an UNKNOWN job like a failed one: its own non-zero exit code, else 1", () => {
    expect(jobOutcome({ state: JobState.UNKNOWN, exitCode: undefined, reason: "task record expired" })).toEqual({
      exitCode: 1,
      reason: "failed",
      message: "the provider lost track of the job: task record expired",
    });
    expect(exitCodeForStatus({ state: JobState.UNKNOWN, exitCode: 3, reason: "" })).toBe(3);
    expect(exitCodeForStatus({ state: JobState.UNKNOWN, exitCode: 0, reason: "" })).toBe(1);
  });

  it("names states and knows which are terminal", () => {
    expect(jobStateName(JobState.FAILED)).toBe("FAILED");
    expect([JobState.PENDING, JobState.RUNNING, JobState.SUCCEEDED].map(isTerminalJobState)).toEqual([
      false,
      false,
      true,
    ]);
    expect(jobOutcome({ state: JobState.RUNNING, exitCode: undefined, reason: "" })).toMatchObject({
      exitCode: 1,
      reason: "failed",
    });
  });
});
