import { CANCELLED_EXIT_CODE, jobStateName } from "@flotilla/exec";
import { JobState } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import { EXIT_CANCELLED, stateName } from "./exit-status.js";

// How a job status becomes an exit code is exec's jobOutcome (job-outcome.test.ts); these only must agree with it.
describe("the CLI's exit codes", () => {
  it("agree with the exec package's", () => {
    expect(EXIT_CANCELLED).toBe(CANCELLED_EXIT_CODE);
    for (const state of [JobState.PENDING, JobState.FAILED, JobState.UNKNOWN]) {
      expect(stateName(state)).toBe(jobStateName(state));
    }
    expect(stateName(JobState.FAILED)).toBe("FAILED");
  });
});
