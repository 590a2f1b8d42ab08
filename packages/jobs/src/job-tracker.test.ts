import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import type { ProviderJobRunner } from "@flotilla/exec";
import { AlreadyExistsError, JobSpecSchema, type RunJobRequestSchema } from "@flotilla/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalProviderFixture, shellSpec, startLocalProvider } from "./fixtures/local-provider.js";
import { JobTracker, outcomeOf, runRequestOf } from "./job-tracker.js";
import type { JournalJob } from "./journal.js";
import { LeaseLostError } from "./journal.js";

let local: LocalProviderFixture;
beforeAll(async () => {
  local = await startLocalProvider();
});
afterAll(() => local.stop());

const fast = { pollIntervalMs: 50 };

describe("JobTracker", () => {
  it("records the job before RunJob reaches the provider, then its handle, each state, its log and its outcome", async () => {
    const journal = local.journal("record.db");
    const seenAtRunJob: unknown[] = [];
    const tracker = new JobTracker({
      journal,
      runner: fast,
      runners: local.runners((client) => ({
        ...bind(client),
        runJob: async (request: MessageInitShape<typeof RunJobRequestSchema>, options) => {
          seenAtRunJob.push(await journal.findByKey(request.spec?.idempotencyKey ?? ""));
          return client.runJob(request, options);
        },
      })),
    });
    const tracked = await tracker.submit({
      provider: "local",
      spec: shellSpec("echo out; echo err >&2; exit 4", { idempotencyKey: "first" }),
    });
    const end = await tracked.done;
    expect(seenAtRunJob).toMatchObject([{ id: tracked.id, state: "dispatching", handle: undefined }]);
    expect(end.job).toMatchObject({
      state: "failed",
      finished: true,
      exitCode: 4,
      providerExitCode: 4,
      reason: "exited with code 4",
      lease: undefined,
      log: { lines: 2 },
    });
    expect(end.job.handle?.jobId).toBe((await tracked.handle).jobId);
    const lines = await journal.readLog(tracked.id, 0, 10);
    expect(lines.map((line) => [line.stream, line.text])).toEqual([
      ["stdout", "out"],
      ["stderr", "err"],
    ]);
    const states = (await journal.transitions(tracked.id)).map((t) => t.state);
    expect(states[0]).toBe("dispatching");
    expect(states[1]).toBe("pending");
    expect(states.at(-1)).toBe("failed");
    await tracker.close();
  });

  it("gives the first job for a submission repeated with its key, and refuses another spec under that key", async () => {
    const journal = local.journal("repeat.db");
    let runJobs = 0;
    const tracker = new JobTracker({
      journal,
      runner: fast,
      runners: local.runners((client) => ({
        ...bind(client),
        runJob: (request, options) => {
          runJobs += 1;
          return client.runJob(request, options);
        },
      })),
    });
    const spec = shellSpec("echo once", { idempotencyKey: "repeat" });
    const first = await tracker.submit({ provider: "local", spec });
    const again = await tracker.submit({ provider: "local", spec });
    expect(again.id).toBe(first.id);
    await first.done;
    const late = await tracker.submit({ provider: "local", spec });
    expect(late).toMatchObject({ id: first.id, following: false, job: { finished: true } });
    await expect(
      tracker.submit({ provider: "local", spec: shellSpec("echo other", { idempotencyKey: "repeat" }) }),
    ).rejects.toThrow(AlreadyExistsError);
    expect(runJobs).toBe(1);
    await tracker.close();
  });

  it("stops following on close without cancelling; another tracker follows on from the saved cursor", async () => {
    const journal = local.journal("handover.db");
    const fifo = join(local.dir, "handover-step");
    execFileSync("mkfifo", [fifo]);
    const first = new JobTracker({ journal, runner: fast, runners: local.runners(), logBatch: { delayMs: 5 } });
    const shown: string[] = [];
    const tracked = await first.submit(
      { provider: "local", spec: shellSpec(`echo a; echo b; read x < ${fifo}; echo c; exit 2`) },
      { onLog: (line) => void shown.push(line.text) },
    );
    await expect.poll(async () => (await journal.get(tracked.id))?.log.lines).toBe(2);
    await first.close();
    const handedOver = await tracked.done;
    expect(handedOver.job).toMatchObject({ finished: false, lease: undefined, log: { lines: 2 } });
    expect(shown).toEqual(["a", "b"]);

    const second = new JobTracker({ journal, runner: fast, runners: local.runners() });
    const [resumed] = await second.resume();
    expect(resumed?.id).toBe(tracked.id);
    execFileSync("sh", ["-c", `echo go > ${fifo}`]);
    const end = await (resumed as NonNullable<typeof resumed>).done;
    expect(end.job).toMatchObject({ state: "failed", exitCode: 2, finished: true });
    expect((await journal.readLog(tracked.id, 0, 10)).map((line) => line.text)).toEqual(["a", "b", "c"]);
    await second.close();
  });

  it("carries out a cancel asked through the journal by another process, at its next heartbeat", async () => {
    const journal = local.journal("cancel.db");
    const tracker = new JobTracker({ journal, runner: fast, runners: local.runners(), heartbeatMs: 50 });
    const tracked = await tracker.submit({
      provider: "local",
      spec: shellSpec("trap 'exit 143' TERM; echo up; while :; do sleep 0.05; done"),
    });
    await tracked.handle;
    const elsewhere = local.journal("cancel.db");
    await elsewhere.requestCancel(tracked.id, "no longer wanted");
    const end = await tracked.done;
    expect(end.job).toMatchObject({ state: "cancelled", exitCode: 130, finished: true });
    expect(end.job.reason).toBe("cancelled: no longer wanted");
    await tracker.close();
  });

  it("finishes a job its provider refuses as failed, saying why, without retrying it", async () => {
    const journal = local.journal("refused.db");
    const tracker = new JobTracker({ journal, runner: fast, runners: local.runners() });
    const tracked = await tracker.submit({
      provider: "local",
      spec: create(JobSpecSchema, {
        command: ["echo", "never"],
        secretEnv: { TOKEN: "secret://env/FLOTILLA_TEST_NO_SUCH_VARIABLE" },
      }),
    });
    const end = await tracked.done;
    expect(end.job).toMatchObject({ state: "failed", finished: true, exitCode: undefined, handle: undefined });
    expect(end.job.reason).toMatch(/^could not be dispatched: .*FLOTILLA_TEST_NO_SUCH_VARIABLE/);
    await expect(tracked.handle).rejects.toThrow(/ended before the provider returned a handle/);
    await tracker.close();
  });

  it("stops writing, and leaves the job alone, once another follower took its lease over", async () => {
    const journal = local.journal("lease.db");
    const fifo = join(local.dir, "lease-step");
    execFileSync("mkfifo", [fifo]);
    const tracker = new JobTracker({ journal, runner: fast, runners: local.runners(), heartbeatMs: 50 });
    const tracked = await tracker.submit({ provider: "local", spec: shellSpec(`echo a; read x < ${fifo}; echo b`) });
    await tracked.handle;
    // Another follower decided this one is gone (its lease ran out, say) and took the job.
    await journal.claim(tracked.id, "someone-else", 60_000, tracker.owner);
    const end = await tracked.done;
    expect(end.error).toBeInstanceOf(LeaseLostError);
    expect(end.job).toMatchObject({ finished: false, lease: { owner: "someone-else" } });
    // Not cancelled: the job is still waiting for its step, and finishes when given it.
    execFileSync("sh", ["-c", `echo go > ${fifo}`]);
    await tracker.close();
  });
});

describe("runRequestOf", () => {
  it("sends the recorded spec again whole, with what is left of its timeout", () => {
    const spec = create(JobSpecSchema, {
      name: "migrate",
      command: ["sh", "-c"],
      args: ["echo $A"],
      env: { A: "1" },
      secretEnv: { T: "secret://env/T" },
      resources: { cpuMillicores: 500, memoryMib: 256 },
      timeout: { seconds: 30n },
      idempotencyKey: "key-1",
      target: { kind: { case: "local", value: { shell: true } } },
    });
    const createdAt = new Date(1_000_000);
    const request = runRequestOf({ id: "j1", spec, createdAt } as JournalJob, 1_000_000 + 10_000);
    expect(request).toMatchObject({
      jobName: "migrate",
      command: ["sh", "-c"],
      args: ["echo $A"],
      env: { A: "1" },
      secretEnv: { T: "secret://env/T" },
      idempotencyKey: "key-1",
      timeoutMs: 20_000,
      resources: { cpuMillicores: 500, memoryMib: 256 },
      target: { kind: { case: "local", value: { shell: true } } },
    });
    // Past its timeout: the least there is, so the run stops it at once rather than waiting again.
    expect(runRequestOf({ id: "j1", spec, createdAt } as JournalJob, 1_000_000 + 60_000).timeoutMs).toBe(1);
  });
});

describe("outcomeOf", () => {
  it("records a run stopped by its timeout as failed with the timeout's exit code, whatever the provider said", () => {
    expect(
      outcomeOf({
        exitCode: 124,
        reason: "timeout",
        message: "timed out after 1s",
        startedAt: new Date(),
        finishedAt: new Date(),
        runName: "x",
        reused: false,
      }),
    ).toEqual({ state: "failed", exitCode: 124, providerExitCode: undefined, reason: "timed out after 1s" });
  });
});

/** The client's methods bound to it, to spread into a wrapper that replaces one of them. */
function bind(client: ProviderJobRunner): ProviderJobRunner {
  return {
    runJob: (request, options) => client.runJob(request, options),
    jobStatus: (request, options) => client.jobStatus(request, options),
    jobLogs: (request, options) => client.jobLogs(request, options),
    cancelJob: (request, options) => client.cancelJob(request, options),
  };
}
