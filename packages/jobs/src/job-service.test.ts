import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { NotFoundError } from "@flotilla/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalProviderFixture, shellSpec, startLocalProvider } from "./fixtures/local-provider.js";
import { formatJobRef, JobService, parseJobRef } from "./job-service.js";
import type { JournalLogLine } from "./journal.js";

let local: LocalProviderFixture;
beforeAll(async () => {
  local = await startLocalProvider();
});
afterAll(() => local.stop());

const fast = { pollIntervalMs: 50 };

/** A service standing for one process (its own journal connection and lease owner). */
function process_(journalName: string): JobService {
  return new JobService({
    journal: local.journal(journalName),
    runners: local.runners(),
    runner: fast,
    tailPollMs: 20,
    heartbeatMs: 50,
  });
}

async function collect(batches: AsyncIterable<JournalLogLine[]>): Promise<string[]> {
  const texts: string[] = [];
  for await (const batch of batches) texts.push(...batch.map((line) => line.text));
  return texts;
}

describe("JobService", () => {
  it("finds a job by its handle as `flotilla run` prints it, or by its journal id, and names the journal when it cannot", async () => {
    const service = process_("find.db");
    const tracked = await service.run({ provider: "local", spec: shellSpec("echo hi") });
    const handle = await tracked.handle;
    await tracked.done;
    const text = formatJobRef({ provider: "local", jobId: handle.jobId });
    expect((await service.find(text)).id).toBe(tracked.id);
    expect((await service.find(tracked.id)).id).toBe(tracked.id);
    expect((await service.list()).map((job) => job.id)).toEqual([tracked.id]);
    await expect(service.find("local:no-such-job")).rejects.toThrow(NotFoundError);
    await expect(service.find("local:no-such-job")).rejects.toThrow(
      `job local:no-such-job is not in the job journal ${service.journal.location}`,
    );
    await service.close();
  });

  it("follows, from another process, a log the job's follower is still writing, to its end", async () => {
    const fifo = join(local.dir, "follow-step");
    execFileSync("mkfifo", [fifo]);
    const runner = process_("follow.db");
    const reader = process_("follow.db");
    const tracked = await runner.run({
      provider: "local",
      spec: shellSpec(`echo one; read x < ${fifo}; echo two; echo three; exit 5`),
    });
    await tracked.handle;
    const following = collect(reader.logs(tracked.id, { follow: true }));
    await expect.poll(async () => (await runner.journal.get(tracked.id))?.log.lines).toBe(1);
    execFileSync("sh", ["-c", `echo go > ${fifo}`]);
    expect(await following).toEqual(["one", "two", "three"]);
    // The reader never followed the job itself: its runner did.
    expect((await tracked.done).job).toMatchObject({ state: "failed", exitCode: 5 });
    await runner.close();
    await reader.close();
  });

  it("brings a job nobody follows (run, then left to run on its own) up to date from its provider when asked", async () => {
    const fifo = join(local.dir, "detached-step");
    execFileSync("mkfifo", [fifo]);
    const starter = process_("detached.db");
    const tracked = await starter.run({
      provider: "local",
      spec: shellSpec(`echo early; read x < ${fifo}; echo late; exit 3`),
    });
    const handle = await tracked.handle;
    await starter.close();
    expect((await tracked.done).job).toMatchObject({ finished: false, lease: undefined });

    const later = process_("detached.db");
    const ref = { provider: "local", jobId: handle.jobId };
    await expect.poll(async () => collect(later.logs(ref))).toEqual(["early"]);
    expect((await later.status(ref)).state).toBe("running");
    execFileSync("sh", ["-c", `echo go > ${fifo}`]);
    await expect.poll(async () => (await later.status(ref)).finished).toBe(true);
    expect(await later.status(ref)).toMatchObject({ state: "failed", exitCode: 3, providerExitCode: 3 });
    expect(await collect(later.logs(ref))).toEqual(["early", "late"]);
    await later.close();
  });

  it("cancels a job nobody follows by following it here, and waits for it to stop", async () => {
    const starter = process_("cancel.db");
    const tracked = await starter.run({
      provider: "local",
      spec: shellSpec("trap 'echo bye; exit 143' TERM; echo up; while :; do sleep 0.05; done"),
    });
    await tracked.handle;
    await starter.close();

    const canceller = process_("cancel.db");
    const job = await canceller.cancel(tracked.id, "wrong branch", { waitMs: 20_000 });
    expect(job).toMatchObject({ state: "cancelled", finished: true, exitCode: 130 });
    expect(job.cancelRequest?.reason).toBe("wrong branch");
    expect(await collect(canceller.logs(tracked.id))).toEqual(expect.arrayContaining(["up", "bye"]));
    await canceller.close();
  });
});

describe("parseJobRef", () => {
  it("reads a handle (whose job id may hold colons) or a journal id, and says what it expects otherwise", () => {
    expect(parseJobRef("aws:arn:aws:ecs:eu-west-1:1:task/x")).toEqual({
      provider: "aws",
      jobId: "arn:aws:ecs:eu-west-1:1:task/x",
    });
    expect(parseJobRef("3f2a9c1e-0000-4000-8000-000000000000")).toBe("3f2a9c1e-0000-4000-8000-000000000000");
    expect(() => parseJobRef("nonsense")).toThrow(
      'job "nonsense" is neither a handle PROVIDER:JOB_ID (e.g. "local:3f2a9c...") nor a journal id (a UUID)',
    );
  });
});
