import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { create } from "@bufbuild/protobuf";
import {
  CancelJobRequestSchema,
  InvalidArgumentError,
  type JobHandle,
  JobLogsRequestSchema,
  JobSpecSchema,
  JobState,
  JobStatusRequestSchema,
  LocalTargetSchema,
  RunJobRequestSchema,
} from "@flotilla/protocol";
import { isProcessRunning, processesMatching } from "@flotilla/test-support";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { localConfig } from "./config.js";
import { LocalRunner } from "./local-runner.js";

// The supervisor runs from the build (vitest's global setup brings dist/ up to date): it is a program of its own.
const supervisor = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "job-supervisor.js");

let dir: string;
let stateDir: string;
const runners: LocalRunner[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "fl-durable-"));
  stateDir = join(dir, "state");
});
afterEach(async () => {
  for (const runner of runners.splice(0)) await runner.shutdown("test cleanup");
  // Any supervisor a failed test left behind is stopped with its job (its job dir's cancel is not needed).
  for (const pid of supervisorsOf(stateDir)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

/** A runner standing for one plugin process, configured with durable jobs in the shared state directory. */
function plugin(): LocalRunner {
  const runner = new LocalRunner({
    environment: { PATH: process.env.PATH },
    config: () => ({ ...localConfig.defaults(), state_dir: stateDir, durable_jobs: true, kill_grace_ms: 500 }),
    supervisorCommand: [process.execPath, supervisor],
  });
  runners.push(runner);
  return runner;
}

const shell = (script: string, idempotencyKey = "") =>
  create(RunJobRequestSchema, {
    spec: create(JobSpecSchema, {
      command: [script],
      target: { kind: { case: "local", value: create(LocalTargetSchema, { shell: true }) } },
      idempotencyKey,
    }),
  });
const ctx = () => ({ signal: new AbortController().signal });

async function followLog(runner: LocalRunner, handle: JobHandle, cursor = ""): Promise<string[]> {
  const texts: string[] = [];
  for await (const response of runner.jobLogs(create(JobLogsRequestSchema, { handle, follow: true, cursor }), ctx()))
    texts.push(...(response.lines ?? []).map((line) => `${line.cursor}:${line.text}`));
  return texts;
}

function status(runner: LocalRunner, handle: JobHandle) {
  return runner.jobStatus(create(JobStatusRequestSchema, { handle })).status;
}

/** Supervisors of the jobs recorded in `state` still running. */
function supervisorsOf(state: string): number[] {
  if (!existsSync(state)) return [];
  const jobs = readdirSync(state);
  return processesMatching("job-supervisor.js")
    .filter((p) => jobs.some((id) => p.cmdline.includes(id)))
    .map((p) => p.pid);
}

function logOf(handle: JobHandle): string {
  try {
    return readFileSync(join(stateDir, handle.jobId, "log.jsonl"), "utf8");
  } catch {
    return "";
  }
}

describe("durable local jobs (durable_jobs)", () => {
  it("outlive the plugin that started them: another plugin follows the log as it grows, to the real exit code", async () => {
    const release = join(dir, "release");
    const first = plugin();
    const { handle } = await first.runJob(
      shell(`echo one; while [ ! -e ${release} ]; do sleep 0.02; done; echo two; echo err >&2; exit 3`),
    );
    // The first plugin shuts down (cancelling its own jobs): the durable job is not one of them.
    await first.shutdown("plugin stopping");
    expect(status(first, handle)?.state).toBe(JobState.RUNNING);

    const second = plugin();
    const following = followLog(second, handle);
    await expect.poll(() => logOf(handle)).toContain("one");
    execFileSync("touch", [release]);
    expect(await following).toEqual(["1:one", "2:two", "3:err"]);
    expect(status(second, handle)).toMatchObject({ state: JobState.FAILED, exitCode: 3, reason: "exited with code 3" });
  });

  it("keep their idempotency key across plugin processes: a retried RunJob in another one starts nothing", async () => {
    const runs = join(dir, "runs");
    const script = `echo run >> ${runs}; echo done`;
    const first = await plugin().runJob(shell(script, "key-1"));
    const again = await plugin().runJob(shell(script, "key-1"));
    expect(again).toMatchObject({ deduplicated: true, handle: { jobId: first.handle.jobId } });
    expect(await followLog(plugin(), first.handle)).toEqual(["1:done"]);
    expect(readFileSync(runs, "utf8")).toBe("run\n");
  });

  it("are cancelled from any plugin process, through their supervisor, with the reason given", async () => {
    const started = plugin();
    const { handle } = await started.runJob(
      shell("trap 'echo stopping; exit 143' TERM; echo up; while :; do sleep 0.05; done"),
    );
    const other = plugin();
    const following = followLog(other, handle);
    await expect.poll(() => logOf(handle)).toContain("up");
    other.cancelJob(create(CancelJobRequestSchema, { handle, reason: "not needed" }));
    const lines = await following;
    expect(lines[0]).toBe("1:up");
    expect(lines).toEqual(
      expect.arrayContaining(["2:[flotilla] cancelled: not needed", expect.stringMatching(/^\d+:stopping$/)]),
    );
    expect(status(other, handle)).toMatchObject({ state: JobState.CANCELLED, reason: "cancelled: not needed" });
  });

  it("die with their supervisor: a supervisor killed with SIGKILL leaves no job running, and the record says so", async () => {
    const runner = plugin();
    const { handle } = await runner.runJob(shell("echo $$; exec sleep 300"));
    const record = JSON.parse(readFileSync(join(stateDir, handle.jobId, "job.json"), "utf8"));
    expect(record.supervised).toBe(true);
    await expect.poll(() => logOf(handle)).toMatch(/"t":"\d+"/);
    const jobPid = Number(JSON.parse(logOf(handle).split("\n")[0] ?? "{}").t);
    expect(isProcessRunning(jobPid)).toBe(true);
    process.kill(record.pluginPid, "SIGKILL");
    await expect.poll(() => isProcessRunning(jobPid)).toBe(false);
    // The killed supervisor counts as alive until it has been reaped, which happens on its own schedule.
    await expect
      .poll(() => status(runner, handle), { timeout: 15_000 })
      .toMatchObject({
        state: JobState.UNKNOWN,
        reason: expect.stringMatching(
          /the supervisor that ran this job \(pid \d+\) stopped before recording how it ended/,
        ),
      });
  });

  it("need a state_dir, and say so", () => {
    expect(() => localConfig.parse(new TextEncoder().encode('{"durable_jobs": true}'))).toThrow(InvalidArgumentError);
    expect(() => localConfig.parse(new TextEncoder().encode('{"durable_jobs": true}'))).toThrow(
      /local provider config is invalid: durable_jobs: needs state_dir/,
    );
  });
});
