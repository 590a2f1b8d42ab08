import { describe, expect, it } from "vitest";
import { measureStatusCalls } from "./aws-status-calls.js";

describe("measureStatusCalls", () => {
  it("counts ceil(jobs/100) DescribeTasks calls per poll and per cold status sweep", async () => {
    const result = await measureStatusCalls({ jobs: 230, polls: 2 });
    expect(result).toEqual({
      jobs: 230,
      polls: 2,
      pollDescribeTasksCalls: 6,
      callsPerJobPerPoll: 6 / 460,
      coldJobStatusDescribeTasksCalls: 3,
      coldCallsPerJob: 3 / 230,
    });
  });
});
