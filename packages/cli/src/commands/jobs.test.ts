import { describe, expect, it } from "vitest";
import { capturedIo } from "../fixtures/streams.js";
import { jobsCommand } from "./jobs.js";

// Status, logs and cancel of real jobs are tested on the real binary in ../main.test.ts.
describe("jobsCommand", () => {
  it("rejects a handle that is not PROVIDER:JOB_ID before starting anything", async () => {
    await expect(jobsCommand("status", "just-an-id", {}, capturedIo())).rejects.toThrow(/is not PROVIDER:JOB_ID/);
  });

  it("reports an unknown local job with exit code 1", async () => {
    const io = capturedIo();
    await expect(jobsCommand("status", "local:00000000-0000-4000-8000-00000000abcd", {}, io)).rejects.toMatchObject({
      exitCode: 1,
      message: expect.stringMatching(/not known to this local provider/),
    });
  }, 60_000);
});
