import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { create } from "@bufbuild/protobuf";
import { AlreadyExistsError, JobSpecSchema } from "@flotilla/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LeaseLostError } from "./journal.js";
import { SQLITE_JOURNAL_SCHEMA_VERSION, SqliteJournal } from "./sqlite-journal.js";

const LEASE = 10_000;

function spec(key: string, command: string[] = ["echo", "hi"]) {
  return create(JobSpecSchema, { command, idempotencyKey: key });
}

describe("SqliteJournal", () => {
  let dir: string;
  let clock: number;
  let journal: SqliteJournal;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "fl-journal-"));
    clock = 1_000_000;
    journal = SqliteJournal.open(join(dir, "state", "journal.db"), { now: () => clock });
  });
  afterEach(async () => {
    await journal.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("records a job as dispatching, leased to its recorder, before anything else is known of it", async () => {
    const { job, created } = await journal.record({ provider: "local", spec: spec("k1") }, "a", LEASE);
    expect(created).toBe(true);
    expect(job).toMatchObject({
      provider: "local",
      idempotencyKey: "k1",
      state: "dispatching",
      finished: false,
      handle: undefined,
      log: { lines: 0, cursor: "" },
      lease: { owner: "a", expiresAt: new Date(clock + LEASE) },
    });
    expect(job.spec.command).toEqual(["echo", "hi"]);
    expect(job.specDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(await journal.transitions(job.id)).toMatchObject([{ state: "dispatching" }]);
  });

  it("gives the job already recorded for a key submitted again with the same spec, and refuses another spec under it", async () => {
    const first = await journal.record({ provider: "local", spec: spec("k1") }, "a", LEASE);
    const again = await journal.record({ provider: "local", spec: spec("k1") }, "b", LEASE);
    expect(again).toMatchObject({ created: false, job: { id: first.job.id, lease: { owner: "a" } } });
    await expect(
      journal.record({ provider: "local", spec: spec("k1", ["rm", "-rf", "x"]) }, "b", LEASE),
    ).rejects.toThrow(AlreadyExistsError);
    await expect(journal.record({ provider: "local", spec: spec("k1", ["other"]) }, "b", LEASE)).rejects.toThrow(
      /idempotency key "k1" belongs to job .* recorded with a different spec; use a new key/,
    );
    expect(await journal.list()).toHaveLength(1);
  });

  it("refuses a job without an idempotency key", async () => {
    await expect(journal.record({ provider: "local", spec: spec("") }, "a", LEASE)).rejects.toThrow(
      /recorded with an idempotency key/,
    );
  });

  it("lets one owner at a time hold a lease: free, expired, its own, or from an owner known dead", async () => {
    const { job } = await journal.record({ provider: "local", spec: spec("k1") }, "a", LEASE);
    expect(await journal.claim(job.id, "b", LEASE)).toBeUndefined();
    expect((await journal.claim(job.id, "a", LEASE))?.lease?.owner).toBe("a");
    expect((await journal.claim(job.id, "b", LEASE, "a"))?.lease?.owner).toBe("b");
    clock += LEASE;
    expect((await journal.claim(job.id, "c", LEASE))?.lease?.owner).toBe("c");
    await journal.release(job.id, "c");
    expect((await journal.get(job.id))?.lease).toBeUndefined();
    expect((await journal.claim(job.id, "d", LEASE))?.lease?.owner).toBe("d");
  });

  it("refuses every write about a job from an owner that lost its lease (fencing)", async () => {
    const { job } = await journal.record({ provider: "local", spec: spec("k1") }, "a", LEASE);
    await journal.claim(job.id, "b", LEASE, "a");
    const line = { stream: "stdout" as const, text: "late", continues: false };
    await expect(journal.appendLog(job.id, "a", [line], "1")).rejects.toThrow(LeaseLostError);
    await expect(journal.setHandle(job.id, "a", { provider: "local", jobId: "j" })).rejects.toThrow(LeaseLostError);
    await expect(journal.setState(job.id, "a", { state: "running", reason: "" })).rejects.toThrow(LeaseLostError);
    await expect(journal.finish(job.id, "a", { state: "succeeded", exitCode: 0, reason: "" })).rejects.toThrow(
      /a no longer holds its lease/,
    );
    expect(await journal.get(job.id)).toMatchObject({ state: "dispatching", log: { lines: 0 }, handle: undefined });
  });

  it("stores log lines with the cursor after them, and reads them back after any line, across the batches stored", async () => {
    const { job } = await journal.record({ provider: "local", spec: spec("k1") }, "a", LEASE);
    const first = new Date(clock);
    await journal.appendLog(
      job.id,
      "a",
      [
        { stream: "stdout", text: "one", continues: false },
        { stream: "stderr", text: "tw", continues: true },
      ],
      "2",
    );
    clock += 1000;
    await journal.appendLog(job.id, "a", [{ stream: "stderr", text: "o", continues: false }], "3");
    await journal.appendLog(job.id, "a", [], "3");
    await journal.appendLog(job.id, "a", [{ stream: "system", text: '[note] "quoted"', continues: false }], "3");
    expect((await journal.get(job.id))?.log).toEqual({ lines: 4, cursor: "3" });
    expect(await journal.readLog(job.id, 0, 10)).toEqual([
      { seq: 1, stream: "stdout", text: "one", continues: false, time: first },
      { seq: 2, stream: "stderr", text: "tw", continues: true, time: first },
      { seq: 3, stream: "stderr", text: "o", continues: false, time: new Date(clock) },
      { seq: 4, stream: "system", text: '[note] "quoted"', continues: false, time: new Date(clock) },
    ]);
    expect((await journal.readLog(job.id, 1, 1)).map((line) => line.seq)).toEqual([2]);
    expect((await journal.readLog(job.id, 1, 2)).map((line) => line.text)).toEqual(["tw", "o"]);
    expect((await journal.readLog(job.id, 2, 10)).map((line) => line.seq)).toEqual([3, 4]);
    expect(await journal.readLog(job.id, 4, 10)).toEqual([]);
    expect(await journal.readLog("no-such-job", 0, 10)).toEqual([]);
  });

  it("reads any stretch of a long log, starting inside a batch and crossing batches", async () => {
    const { job } = await journal.record({ provider: "local", spec: spec("k1") }, "a", LEASE);
    for (let batch = 0; batch < 10; batch++) {
      const lines = Array.from({ length: 100 }, (_, i) => ({
        stream: "stdout" as const,
        text: `line ${batch * 100 + i + 1}`,
        continues: false,
      }));
      await journal.appendLog(job.id, "a", lines, String((batch + 1) * 100));
    }
    const read = await journal.readLog(job.id, 550, 120);
    expect(read.map((line) => line.seq)).toEqual(Array.from({ length: 120 }, (_, i) => 551 + i));
    expect(read.map((line) => line.text)).toEqual(Array.from({ length: 120 }, (_, i) => `line ${551 + i}`));
    expect((await journal.readLog(job.id, 999, 10)).map((line) => line.text)).toEqual(["line 1000"]);
  });

  it("records the handle, each state change once, and the outcome; a final state is not undone by a stale one", async () => {
    const { job } = await journal.record({ provider: "aws", spec: spec("k1") }, "a", LEASE);
    await journal.setHandle(job.id, "a", { provider: "aws-plugin", jobId: "task/1" });
    await journal.setState(job.id, "a", { state: "running", reason: "" });
    await journal.setState(job.id, "a", { state: "running", reason: "" });
    await journal.setState(job.id, "a", { state: "failed", reason: "exited with code 3", providerExitCode: 3 });
    await journal.setState(job.id, "a", { state: "running", reason: "" });
    await journal.finish(job.id, "a", {
      state: "failed",
      exitCode: 3,
      providerExitCode: 3,
      reason: "exited with code 3",
    });
    const finished = await journal.get(job.id);
    expect(finished).toMatchObject({
      handle: { provider: "aws-plugin", jobId: "task/1" },
      state: "failed",
      finished: true,
      exitCode: 3,
      providerExitCode: 3,
      reason: "exited with code 3",
      lease: undefined,
    });
    expect((await journal.transitions(job.id)).map((t) => t.state)).toEqual([
      "dispatching",
      "pending",
      "running",
      "failed",
    ]);
    expect(await journal.findByHandle({ provider: "aws", jobId: "task/1" })).toMatchObject({ id: job.id });
    expect(await journal.findByHandle({ provider: "aws-plugin", jobId: "task/1" })).toBeUndefined();
    expect(await journal.claim(job.id, "b", LEASE)).toBeUndefined();
  });

  it("takes a job id a provider issues again (one that numbers its jobs from 1 each start): the handle finds the newest", async () => {
    const first = await journal.record({ provider: "fake", spec: spec("k1") }, "a", LEASE);
    await journal.setHandle(first.job.id, "a", { provider: "fake", jobId: "job-1" });
    clock += 1;
    const second = await journal.record({ provider: "fake", spec: spec("k2") }, "a", LEASE);
    await journal.setHandle(second.job.id, "a", { provider: "fake", jobId: "job-1" });
    expect((await journal.findByHandle({ provider: "fake", jobId: "job-1" }))?.id).toBe(second.job.id);
  });

  it("hands a cancel asked by anyone to the lease holder's heartbeat, which also renews its leases", async () => {
    const { job } = await journal.record({ provider: "local", spec: spec("k1") }, "a", LEASE);
    const other = await journal.record({ provider: "local", spec: spec("k2") }, "b", LEASE);
    expect(await journal.heartbeat("a", LEASE)).toEqual([{ id: job.id, cancelReason: undefined }]);
    const asked = await journal.requestCancel(job.id, "no longer needed");
    expect(asked?.cancelRequest).toEqual({ reason: "no longer needed", at: new Date(clock) });
    clock += 5_000;
    expect(await journal.heartbeat("a", LEASE)).toEqual([{ id: job.id, cancelReason: "no longer needed" }]);
    expect((await journal.get(job.id))?.lease?.expiresAt).toEqual(new Date(clock + LEASE));
    expect((await journal.get(other.job.id))?.lease?.expiresAt).toEqual(new Date(clock - 5_000 + LEASE));
    expect(await journal.requestCancel("no-such-job", "x")).toBeUndefined();
  });

  it("lists jobs newest first, unfinished ones apart, and prunes the oldest finished ones with their logs", async () => {
    const ids: string[] = [];
    for (const key of ["k1", "k2", "k3", "k4"]) {
      clock += 1;
      const { job } = await journal.record({ provider: key === "k4" ? "aws" : "local", spec: spec(key) }, "a", LEASE);
      ids.push(job.id);
      await journal.appendLog(job.id, "a", [{ stream: "stdout", text: key, continues: false }], "1");
    }
    for (const id of ids.slice(0, 3)) await journal.finish(id, "a", { state: "succeeded", exitCode: 0, reason: "" });
    expect((await journal.list()).map((job) => job.id)).toEqual([...ids].reverse());
    expect((await journal.list({ unfinished: true })).map((job) => job.id)).toEqual([ids[3]]);
    expect((await journal.list({ provider: "local", limit: 2 })).map((job) => job.id)).toEqual([ids[2], ids[1]]);
    expect(await journal.prune(1)).toBe(2);
    expect((await journal.list()).map((job) => job.id)).toEqual([ids[3], ids[2]]);
    expect(await journal.readLog(ids[0] as string, 0, 10)).toEqual([]);
  });

  it("is one file several connections share: a second opener sees the first's commits and takes part in leases", async () => {
    const second = SqliteJournal.open(journal.location, { now: () => clock });
    try {
      const { job } = await journal.record({ provider: "local", spec: spec("k1") }, "a", LEASE);
      expect((await second.get(job.id))?.state).toBe("dispatching");
      expect(await second.claim(job.id, "b", LEASE)).toBeUndefined();
      expect((await second.record({ provider: "local", spec: spec("k1") }, "b", LEASE)).created).toBe(false);
    } finally {
      await second.close();
    }
  });

  it("keeps what jobs print to its owner: the file 0600 in a directory made 0700", () => {
    expect(statSync(journal.location).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "state")).mode & 0o777).toBe(0o700);
  });

  it("refuses a journal written by a newer schema, without touching it", async () => {
    const path = join(dir, "newer.db");
    const db = new DatabaseSync(path);
    db.exec(`PRAGMA user_version = ${SQLITE_JOURNAL_SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => SqliteJournal.open(path)).toThrow(
      `job journal ${path} has schema version ${SQLITE_JOURNAL_SCHEMA_VERSION + 1}, newer than this Flotilla knows (${SQLITE_JOURNAL_SCHEMA_VERSION})`,
    );
  });
});
