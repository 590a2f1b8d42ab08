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

  it("reports a job whose plugin or supervisor died mid-run as UNKNOWN, saying which", () => {
    const job = new RecordedJob("j", record(JobState.RUNNING, DEAD_PID));
    expect(job.snapshot()).toMatchObject({
      state: JobState.UNKNOWN,
      reason: `the local provider plugin that ran this job (pid ${DEAD_PID}) stopped before recording how it ended`,
    });
    const supervised = record(JobState.RUNNING, DEAD_PID);
    supervised.status.supervised = true;
    expect(new RecordedJob("j", supervised).snapshot().reason).toBe(
      `the supervisor that ran this job (pid ${DEAD_PID}) stopped before recording how it ended`,
    );
    // A record saying this very process runs the job, which it does not hold: lost as well.
    expect(new RecordedJob("j", record(JobState.RUNNING, process.pid)).snapshot().state).toBe(JobState.UNKNOWN);
  });

  it("keeps the times it recorded", () => {
    const stored = record(JobState.FAILED, DEAD_PID);
    stored.status.startedAt = "2026-01-01T00:00:01.000Z";
    stored.status.finishedAt = "2026-01-01T00:00:02.000Z";
    expect(new RecordedJob("j", stored).snapshot()).toMatchObject({
      createdAt: new Date("2026-01-01T00:00:00.000Z"),
      startedAt: new Date("2026-01-01T00:00:01.000Z"),
      finishedAt: new Date("2026-01-01T00:00:02.000Z"),
    });
  });

  it("refuses to cancel a job still running in another live plugin process, saying where to cancel it", () => {
    // The test runner's parent process stands in for the other plugin.
    const job = new RecordedJob("j", record(JobState.RUNNING, process.ppid));
    expect(job.snapshot()).toMatchObject({
      state: JobState.RUNNING,
      reason: `running in another local provider plugin (pid ${process.ppid})`,
    });
    expect(() => job.cancel("x")).toThrow(FailedPreconditionError);
    expect(() => job.cancel("x")).toThrow(
      `job j runs in another local provider plugin (pid ${process.ppid}); cancel it there (Ctrl-C in the flotilla run that started it)`,
    );
    // A durable job's supervisor gives the job's own reason.
    const supervised = record(JobState.RUNNING, process.ppid);
    supervised.status.supervised = true;
    supervised.status.reason = "as recorded";
    expect(new RecordedJob("j", supervised).snapshot()).toMatchObject({
      state: JobState.RUNNING,
      reason: "as recorded",
    });
  });

  it("a finished job recorded by a process still alive is finished: its end stands", () => {
    const job = new RecordedJob("j", record(JobState.FAILED, process.ppid));
    expect(job.runningElsewhere).toBe(false);
    expect(job.snapshot()).toMatchObject({ state: JobState.FAILED, reason: "exited with code 2" });
    expect(() => job.cancel("x")).not.toThrow();
  });
});
