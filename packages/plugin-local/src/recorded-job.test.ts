import { FailedPreconditionError, JobState, LogStream } from "@flotilla/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { tempLogDir } from "./fixtures/log-files.js";
import type { StoredJob } from "./job-store.js";
import { LogFile } from "./log-file.js";
import { RecordedJob } from "./recorded-job.js";

const temp = tempLogDir();
afterAll(() => temp.remove());
const logPath = temp.path("log.jsonl");
const writer = LogFile.create(logPath);
writer.append(LogStream.STDOUT, "hello", new Date(), false);
writer.close();

const record = (state: JobState, pluginPid: number): StoredJob => ({
  status: {
    state,
    reason: state === JobState.FAILED ? "exited with code 2" : "",
    exitCode: state === JobState.FAILED ? 2 : undefined,
    createdAt: "2026-01-01T00:00:00.000Z",
    pluginPid,
  },
  logPath,
});
// A pid far above Linux's default pid_max: no process has it.
const DEAD_PID = 99_999_999;

describe("RecordedJob", () => {
  it("answers a finished job's status and full log", async () => {
    const job = new RecordedJob("j", record(JobState.FAILED, DEAD_PID));
    expect(job.snapshot()).toMatchObject({ state: JobState.FAILED, exitCode: 2, reason: "exited with code 2" });
    expect((await job.log.read("")).lines.map((l) => l.text)).toEqual(["hello"]);
    expect(job.log.isClosed).toBe(true);
    expect(() => job.cancel("x")).not.toThrow();
  });

  it("reports a job whose plugin died mid-run as UNKNOWN, saying why", () => {
    const job = new RecordedJob("j", record(JobState.RUNNING, DEAD_PID));
    expect(job.snapshot().state).toBe(JobState.UNKNOWN);
    expect(job.snapshot().reason).toMatch(/stopped before recording how it ended/);
  });

  it("refuses to cancel a job still running in another live plugin process", () => {
    // The test runner's parent process stands in for the other plugin.
    const job = new RecordedJob("j", record(JobState.RUNNING, process.ppid));
    expect(job.snapshot().state).toBe(JobState.RUNNING);
    expect(() => job.cancel("x")).toThrow(FailedPreconditionError);
  });
});
