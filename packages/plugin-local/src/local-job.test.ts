import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_MAX_LINE_BYTES } from "@flotilla/process";
import { JobState, LogStream } from "@flotilla/protocol";
import { isProcessRunning } from "@flotilla/test-support";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { readBatches } from "./fixtures/log-files.js";
import { formatMs, LocalJob, type LocalJobLaunch, type LocalJobOptions, type LocalJobSnapshot } from "./local-job.js";
import { LogFile } from "./log-file.js";

const scratch = mkdtempSync(join(tmpdir(), "flt-job-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const started: LocalJob[] = [];
afterEach(async () => {
  for (const job of started.splice(0)) {
    job.cancel("test cleanup");
    await job.finished;
  }
});

/** Processes a test started outside the job's reach (setsid), killed after each test. */
const escaped: number[] = [];
afterEach(() => {
  for (const pid of escaped.splice(0)) if (isProcessRunning(pid)) process.kill(pid, "SIGKILL");
});

function run(
  script: string,
  overrides: Partial<LocalJobLaunch> = {},
  killGraceMs = 2_000,
  options: Omit<LocalJobOptions, "killGraceMs"> = {},
): LocalJob {
  const job = new LocalJob(
    `job-${started.length}`,
    {
      file: "/bin/sh",
      args: ["-c", script],
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      cwd: undefined,
      timeoutMs: undefined,
      ...overrides,
    },
    { killGraceMs, ...options },
  );
  started.push(job);
  job.start();
  return job;
}

describe("LocalJob", () => {
  it("reports success with exit code 0 and keeps stdout and stderr apart", async () => {
    const job = run("echo out; echo err >&2");
    await job.finished;
    const s = job.snapshot();
    expect(s.state).toBe(JobState.SUCCEEDED);
    expect(s.exitCode).toBe(0);
    expect(s.startedAt).toBeInstanceOf(Date);
    expect(s.finishedAt).toBeInstanceOf(Date);
    const lines = (await job.log.read("")).lines.map((l) => [l.stream, l.text]);
    expect(lines).toContainEqual([LogStream.STDOUT, "out"]);
    expect(lines).toContainEqual([LogStream.STDERR, "err"]);
  });

  it("logs a line longer than the cap in pieces, so a job that never prints a newline cannot grow the plugin's memory", async () => {
    const job = run(`head -c ${DEFAULT_MAX_LINE_BYTES + 1000} /dev/zero | tr '\\0' a`);
    await job.finished;
    const pieces = (await readBatches(job.log)).flat();
    // The pieces say that the line goes on, so a reader can join them into the line the job wrote.
    expect(pieces.map((l) => l.continues)).toEqual([true, false]);
    const lines = pieces.map((l) => l.text);
    expect(lines.map((l) => l.length)).toEqual([DEFAULT_MAX_LINE_BYTES, 1000]);
    expect(lines.join("")).toBe("a".repeat(DEFAULT_MAX_LINE_BYTES + 1000));
  });

  it("reports the real non-zero exit code as FAILED", async () => {
    const job = run("exit 7");
    await job.finished;
    expect(job.snapshot()).toMatchObject({ state: JobState.FAILED, exitCode: 7, reason: "exited with code 7" });
  });

  it("gives the job no stdin: a program that reads it sees its end at once", async () => {
    const job = run("cat; echo done");
    await job.finished;
    expect(job.snapshot().state).toBe(JobState.SUCCEEDED);
    expect((await job.log.read("")).lines.map((l) => l.text)).toEqual(["done"]);
  });

  it("passes exactly the given environment", async () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template
    const job = run('echo "v=$ONLY_THIS"; echo "home=${HOME:-unset}"', {
      env: { ONLY_THIS: "yes", PATH: "/usr/bin:/bin" },
    });
    await job.finished;
    expect((await job.log.read("")).lines.map((l) => l.text)).toEqual(["v=yes", "home=unset"]);
  });

  it("shows lines while the job runs, before it exits", async () => {
    const job = run("echo early; sleep 30");
    await job.log.waitForMore("");
    expect((await job.log.read("")).lines.map((l) => l.text)).toEqual(["early"]);
    expect(job.snapshot().state).toBe(JobState.RUNNING);
  });

  it("fails a job that outlives its timeout, saying so", async () => {
    const job = run("sleep 30", { timeoutMs: 200 });
    await job.finished;
    const s = job.snapshot();
    expect(s.state).toBe(JobState.FAILED);
    expect(s.reason).toBe("timed out: the job ran longer than its timeout of 200ms");
  });

  it("cancel kills the whole process group, grandchildren included", async () => {
    // The shell starts a background sleep and reports its pid, then waits.
    const job = run("sleep 60 & echo $!; wait");
    await job.log.waitForMore("");
    const grandchild = Number((await job.log.read("")).lines[0]?.text);
    expect(isProcessRunning(grandchild)).toBe(true);
    job.cancel("user asked");
    try {
      // Polled before waiting for the job to finish: a grandchild left running would keep the job's output,
      // and so the job, open until the test timed out. A killed process still needs CPU time to exit; on a
      // loaded machine that can take a while.
      await expect.poll(() => isProcessRunning(grandchild), { timeout: 10_000 }).toBe(false);
    } finally {
      if (isProcessRunning(grandchild)) process.kill(grandchild, "SIGKILL");
    }
    await job.finished;
    expect(job.snapshot()).toMatchObject({ state: JobState.CANCELLED, reason: "cancelled: user asked" });
  });

  describe("ends when its main process ends, as a container does when its PID 1 exits", () => {
    // Each job below leaves a child holding its output: before, the job stayed RUNNING until that child
    // exited (300 s). The polls are bounded well below that, so a job that waits for the child fails them.
    it("stops a background child left holding the job's output, and reports the main process's exit", async () => {
      const job = run("sleep 300 & echo $!; exit 0");
      await job.log.waitForMore("");
      const child = Number((await job.log.read("")).lines[0]?.text);
      escaped.push(child);
      await expect.poll(() => job.snapshot().state, { timeout: 15_000 }).toBe(JobState.SUCCEEDED);
      expect(job.snapshot()).toMatchObject({ exitCode: 0, reason: "" });
      await expect.poll(() => isProcessRunning(child), { timeout: 10_000 }).toBe(false);
    });

    it("gives what is left SIGTERM first, so its clean-up runs and its last lines reach the log", async () => {
      // The main process exits only once the child has set its trap, or the SIGTERM could come first.
      const ready = join(scratch, "ready");
      const job = run(
        `(trap 'echo "cleaned up"; exit 0' TERM; echo ready; touch ${ready}; while :; do sleep 0.05; done) &
         while [ ! -e ${ready} ]; do sleep 0.02; done; exit 3`,
      );
      await job.finished;
      expect(job.snapshot()).toMatchObject({ state: JobState.FAILED, exitCode: 3, reason: "exited with code 3" });
      // The shell may add its own "Terminated" for the sleep the SIGTERM ended.
      expect((await job.log.read("")).lines.map((l) => l.text)).toEqual(
        expect.arrayContaining(["ready", "cleaned up"]),
      );
    });

    it("SIGKILLs a leftover that ignores SIGTERM once the grace period is over", async () => {
      const job = run("(trap '' TERM; sleep 300) & echo $!; exit 0", {}, 200);
      await job.log.waitForMore("");
      const child = Number((await job.log.read("")).lines[0]?.text);
      escaped.push(child);
      await expect.poll(() => job.snapshot().state, { timeout: 15_000 }).toBe(JobState.SUCCEEDED);
      await expect.poll(() => isProcessRunning(child), { timeout: 10_000 }).toBe(false);
    });

    it("stops reading output that a process outside its group holds open, after the drain bound", async () => {
      // setsid puts the sleep in a session of its own: no group signal reaches it, and it keeps the pipe.
      const job = run("setsid sleep 300 & echo $!; echo bye; exit 0", {}, 200, { outputDrainMs: 200 });
      await job.log.waitForMore("");
      escaped.push(Number((await job.log.read("")).lines[0]?.text));
      await expect.poll(() => job.snapshot().state, { timeout: 15_000 }).toBe(JobState.SUCCEEDED);
      expect((await job.log.read("")).lines.map((l) => l.text).slice(1)).toEqual(["bye"]);
      expect(job.log.isClosed).toBe(true);
    });

    it("keeps its end as it was when a cancel comes after the main process exited", async () => {
      const job = run("(trap '' TERM; sleep 300) & echo $!; exit 0", {}, 500);
      await job.log.waitForMore("");
      escaped.push(Number((await job.log.read("")).lines[0]?.text));
      // Gone from /proc, not just a zombie: Node has reaped it, and so has seen it exit.
      await expect.poll(() => existsSync(`/proc/${job.pid}`)).toBe(false);
      job.cancel("too late");
      await job.finished;
      expect(job.snapshot()).toMatchObject({ state: JobState.SUCCEEDED, exitCode: 0 });
    });
  });

  it("escalates to SIGKILL when the job ignores SIGTERM", async () => {
    const job = run("trap '' TERM; echo ready; sleep 60 & wait; sleep 60", {}, 200);
    await job.log.waitForMore("");
    job.cancel("");
    await job.finished;
    expect(job.snapshot()).toMatchObject({ state: JobState.CANCELLED, reason: "cancelled" });
  });

  it("keeps the first stop's reason: a second cancel, or the timeout after a cancel, changes nothing", async () => {
    const job = run("echo ready; sleep 60", { timeoutMs: 1_000 });
    await job.log.waitForMore("");
    job.cancel("first");
    job.cancel("second");
    await job.finished;
    expect(job.snapshot()).toMatchObject({ state: JobState.CANCELLED, reason: "cancelled: first" });
    const system = (await job.log.read("")).lines.filter((l) => l.stream === LogStream.SYSTEM).map((l) => l.text);
    expect(system).toEqual(["[flotilla] cancelled: first"]);
  });

  it("reports a job killed by a signal as FAILED, naming the signal, with no exit code", async () => {
    const job = run("kill -KILL $$");
    await job.finished;
    expect(job.snapshot()).toMatchObject({ state: JobState.FAILED, reason: "killed by signal SIGKILL" });
    expect(job.snapshot().exitCode).toBeUndefined();
  });

  it("takes a timeout of 0 as no timeout", async () => {
    const job = run("sleep 0.2; echo done", { timeoutMs: 0 });
    await job.finished;
    expect(job.snapshot()).toMatchObject({ state: JobState.SUCCEEDED, exitCode: 0 });
  });

  it("stamps when it started and when it finished", async () => {
    const job = run("sleep 0.05");
    await job.finished;
    const { createdAt, startedAt, finishedAt } = job.snapshot();
    expect(startedAt?.getTime()).toBeGreaterThanOrEqual(createdAt.getTime());
    // sleep 0.05 lies between the two, so they cannot be the same millisecond.
    expect(finishedAt?.getTime()).toBeGreaterThan(startedAt?.getTime() ?? Number.POSITIVE_INFINITY);
  });

  it("keeps the memory window it is given, by lines and by bytes", async () => {
    const byLines = run("for i in 1 2 3 4 5; do echo line$i; done", {}, 2_000, { maxLogLines: 2 });
    const byBytes = run("for i in 1 2 3 4 5; do echo line$i; done", {}, 2_000, { maxLogBytes: 15 });
    await Promise.all([byLines.finished, byBytes.finished]);
    for (const [job, dropped, kept] of [
      [byLines, 3, ["line4", "line5"]],
      [byBytes, 2, ["line3", "line4", "line5"]],
    ] as const) {
      const all = (await readBatches(job.log)).flat();
      expect(all[0]?.text).toMatch(new RegExp(`^\\[flotilla\\] ${dropped} earlier line\\(s\\) were dropped`));
      expect(all.slice(1).map((l) => l.text)).toEqual(kept);
    }
  });

  it("killNow SIGKILLs a running job's group at once and tells the observer it was cancelled; a finished job stays as it ended", async () => {
    const seen: LocalJobSnapshot[] = [];
    const logPath = join(scratch, "killed-now.jsonl");
    const job = run("sleep 60 & echo $!; wait", {}, 60_000, {
      observer: { state: (s) => seen.push(s) },
      logFile: LogFile.create(logPath),
    });
    await job.log.waitForMore("");
    const child = Number((await job.log.read("")).lines[0]?.text);
    escaped.push(child);
    // A line still waiting for the log file's batched write when the plugin exits is written by killNow.
    job.log.append(LogStream.STDOUT, "last line before exit");
    job.killNow("the plugin is exiting");
    expect(readFileSync(logPath, "utf8")).toContain("last line before exit");
    expect(seen.at(-1)).toMatchObject({ state: JobState.CANCELLED, reason: "the plugin is exiting" });
    expect(seen.at(-1)?.finishedAt).toBeInstanceOf(Date);
    // SIGKILL, not SIGTERM with a 60 s grace: the whole group is gone long before that.
    await expect.poll(() => isProcessRunning(child), { timeout: 10_000 }).toBe(false);
    await job.finished;
    const reported = seen.length;
    job.killNow("again");
    expect(seen).toHaveLength(reported);
  });

  it("reports a program that cannot start as FAILED with the reason in its log", async () => {
    const job = run("", { file: "/nonexistent/program", args: [] });
    await job.finished;
    const s = job.snapshot();
    expect(s.state).toBe(JobState.FAILED);
    expect(s.exitCode).toBeUndefined();
    expect(s.reason).toMatch(/could not start "\/nonexistent\/program".*ENOENT/);
    expect((await job.log.read("")).lines.at(-1)).toMatchObject({
      stream: LogStream.SYSTEM,
      text: `[flotilla] ${s.reason}`,
    });
    // It never ran: it started and ended at the same moment.
    expect(s.startedAt).toEqual(s.finishedAt);
  });

  it("formats durations for people", () => {
    expect([formatMs(350), formatMs(999), formatMs(1000), formatMs(1500), formatMs(120_000)]).toEqual([
      "350ms",
      "999ms",
      "1s",
      "1.5s",
      "2m",
    ]);
  });
});
