import { createHash, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JobState, LogStream } from "@flotilla/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { mountSmallFilesystem } from "./fixtures/full-filesystem.js";
import { JobStore, STORE_DIR_MODE, STORE_FILE_MODE } from "./job-store.js";
import { LogFile } from "./log-file.js";

const dir = mkdtempSync(join(tmpdir(), "flotilla-store-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

describe("JobStore", () => {
  it("round-trips a job's status, and names where its log is", async () => {
    const store = new JobStore(dir, 4242);
    const createdAt = new Date("2026-01-01T00:00:00Z");
    store.writeStatus(id(1), {
      state: JobState.RUNNING,
      exitCode: undefined,
      reason: "",
      createdAt,
      startedAt: createdAt,
      finishedAt: undefined,
    });
    const log = store.createLogFile(id(1));
    log.append(LogStream.STDOUT, "one", createdAt, false);
    log.append(LogStream.STDERR, "two", createdAt, false);
    log.close();
    store.writeStatus(id(1), {
      state: JobState.FAILED,
      exitCode: 3,
      reason: "exited with code 3",
      createdAt,
      startedAt: createdAt,
      finishedAt: createdAt,
    });
    const record = store.load(id(1));
    expect(record?.status).toMatchObject({ state: JobState.FAILED, exitCode: 3, pluginPid: 4242 });
    const lines = await (await LogFile.open(record?.logPath ?? "")).read(0, { maxBytes: 1 << 20, maxLines: 10 });
    expect(lines.map((l) => [l.stream, l.text])).toEqual([
      [LogStream.STDOUT, "one"],
      [LogStream.STDERR, "two"],
    ]);
  });

  it("has no record for unknown or malformed ids, and an id never reaches outside the state directory", () => {
    const store = new JobStore(join(dir, "mine"));
    expect(store.load(id(99))).toBeUndefined();
    expect(store.load("../../etc")).toBeUndefined();
    // A record that exists, in another state directory beside this one: no id leads there.
    const other = new JobStore(join(dir, "other"));
    other.writeStatus(id(5), {
      state: JobState.SUCCEEDED,
      exitCode: 0,
      reason: "",
      createdAt: new Date(),
      startedAt: undefined,
      finishedAt: undefined,
    });
    expect(other.load(id(5))?.status.state).toBe(JobState.SUCCEEDED);
    expect(store.load(`../other/${id(5)}`)).toBeUndefined();
    expect(store.load(`${id(5)}/../../other/${id(5)}`)).toBeUndefined();
  });

  it("writes the status of a job whose record another process made (a supervisor, an earlier plugin)", () => {
    const stateDir = mkdtempSync(join(dir, "shared-"));
    const at = new Date();
    const snapshot = { exitCode: undefined, reason: "", createdAt: at, startedAt: at, finishedAt: undefined };
    new JobStore(stateDir, 1111).writeStatus(id(1), { ...snapshot, state: JobState.RUNNING });
    const warnings: string[] = [];
    const later = new JobStore(stateDir, 2222, (message) => warnings.push(message));
    later.writeStatus(id(1), { ...snapshot, state: JobState.CANCELLED, reason: "cancelled", finishedAt: at });
    expect(warnings).toEqual([]);
    expect(later.load(id(1))?.status).toMatchObject({ state: JobState.CANCELLED, pluginPid: 2222 });
  });

  it("keeps a job's log in a spool file that leaves nothing behind when its record cannot be made", async () => {
    const notADirectory = join(dir, "a-file");
    writeFileSync(notADirectory, "");
    const warnings: string[] = [];
    const store = new JobStore(join(notADirectory, "state"), 4242, (message) => warnings.push(message));
    // A fresh id: the spool file's name in the shared temp dir is the job's.
    const jobId = randomUUID();
    const log = store.createLogFile(jobId);
    expect(warnings[0]).toMatch(/cannot write job records in state_dir .*a-file\/state \(ENOTDIR: /);
    log.append(LogStream.STDOUT, "kept in memory's stead", new Date(), false);
    expect((await log.read(0, { maxBytes: 1 << 20, maxLines: 10 })).map((l) => l.text)).toEqual([
      "kept in memory's stead",
    ]);
    expect(existsSync(join(tmpdir(), `flotilla-local-log-${jobId}`))).toBe(false);
    log.dispose();
  });

  it("prunes all but the most recently changed records", () => {
    const pruneDir = mkdtempSync(join(dir, "prune-"));
    const store = new JobStore(pruneDir);
    const at = new Date();
    for (let n = 1; n <= 5; n++) {
      store.writeStatus(id(n), {
        state: JobState.SUCCEEDED,
        exitCode: 0,
        reason: "",
        createdAt: at,
        startedAt: at,
        finishedAt: at,
      });
      utimesSync(join(pruneDir, id(n)), n, n);
    }
    store.prune(2);
    expect(readdirSync(pruneDir).sort()).toEqual([id(4), id(5)]);
  });

  it("keeps records owner-only: directories 0700, files 0600", () => {
    const stateDir = join(dir, "private", "state");
    const store = new JobStore(stateDir);
    const at = new Date();
    store.writeStatus(id(7), {
      state: JobState.RUNNING,
      exitCode: undefined,
      reason: "",
      createdAt: at,
      startedAt: at,
      finishedAt: undefined,
    });
    const log = store.createLogFile(id(7));
    log.append(LogStream.STDOUT, "token=hunter2", at, false);
    log.close();
    const mode = (path: string) => statSync(path).mode & 0o777;
    expect(mode(stateDir)).toBe(STORE_DIR_MODE);
    expect(mode(join(stateDir, id(7)))).toBe(STORE_DIR_MODE);
    expect(mode(join(stateDir, id(7), "job.json"))).toBe(STORE_FILE_MODE);
    expect(mode(join(stateDir, id(7), "log.jsonl"))).toBe(STORE_FILE_MODE);
  });

  it("never prunes the record of a job it is still running", () => {
    const pruneDir = mkdtempSync(join(dir, "live-"));
    const store = new JobStore(pruneDir);
    const at = new Date();
    const snapshot = { exitCode: undefined, reason: "", createdAt: at, startedAt: at, finishedAt: undefined };
    store.writeStatus(id(1), { ...snapshot, state: JobState.RUNNING });
    utimesSync(join(pruneDir, id(1)), 1, 1);
    store.writeStatus(id(3), { ...snapshot, state: JobState.PENDING });
    utimesSync(join(pruneDir, id(3)), 2, 2);
    store.writeStatus(id(2), { ...snapshot, state: JobState.SUCCEEDED });
    store.prune(1);
    expect(readdirSync(pruneDir).sort()).toEqual([id(1), id(2), id(3)]);
    // Once finished, it is a record like any other.
    store.writeStatus(id(1), { ...snapshot, state: JobState.SUCCEEDED, exitCode: 0, finishedAt: at });
    utimesSync(join(pruneDir, id(1)), 1, 1);
    store.prune(1);
    expect(readdirSync(pruneDir).sort()).toEqual([id(2), id(3)]);
  });

  it("never prunes the record of a job another live process still runs; marks a supervisor's records", () => {
    const pruneDir = mkdtempSync(join(dir, "elsewhere-"));
    const at = new Date();
    const running = { exitCode: undefined, reason: "", createdAt: at, startedAt: at, finishedAt: undefined };
    // The test runner's parent process stands in for the other plugin, or a durable job's supervisor.
    const supervisor = new JobStore(pruneDir, process.ppid, () => {}, true);
    supervisor.writeStatus(id(1), { ...running, state: JobState.RUNNING });
    utimesSync(join(pruneDir, id(1)), 1, 1);
    new JobStore(pruneDir, process.ppid).writeStatus(id(2), { ...running, state: JobState.RUNNING });
    new JobStore(pruneDir).prune(0);
    expect(readdirSync(pruneDir).sort()).toEqual([id(1), id(2)]);
    expect(supervisor.load(id(1))?.status.supervised).toBe(true);
    expect(supervisor.load(id(2))?.status).not.toHaveProperty("supervised");
  });

  it("keeps key claims owner-only, and releases a key only for the job that claimed it", () => {
    const keysDir = mkdtempSync(join(dir, "claims-"));
    const store = new JobStore(keysDir);
    expect(store.claimKey("deploy", id(1))).toBeUndefined();
    const [claim] = readdirSync(join(keysDir, "keys"));
    expect(statSync(join(keysDir, "keys", claim ?? "")).mode & 0o777).toBe(STORE_FILE_MODE);
    store.releaseKey("deploy", id(2));
    expect(store.claimKey("deploy", id(3))).toBe(id(1));
    store.releaseKey("deploy", id(1));
    expect(store.claimKey("deploy", id(3))).toBeUndefined();
  });

  it("prunes the keys of the jobs it deletes, and keeps the keys of the records it keeps", () => {
    const pruneDir = mkdtempSync(join(dir, "keys-"));
    const store = new JobStore(pruneDir);
    const at = new Date();
    const keyFile = (key: string) => createHash("sha256").update(key).digest("hex");
    mkdirSync(join(pruneDir, "keys"));
    for (const n of [1, 2]) {
      // Claimed by a plugin process that has exited since (a pid far above Linux's pid_max).
      writeFileSync(join(pruneDir, "keys", keyFile(`deploy-${n}`)), JSON.stringify({ jobId: id(n), pid: 99_999_999 }));
      store.writeStatus(id(n), {
        state: JobState.SUCCEEDED,
        exitCode: 0,
        reason: "",
        createdAt: at,
        startedAt: at,
        finishedAt: at,
      });
      utimesSync(join(pruneDir, id(n)), n, n);
    }
    store.prune(1);
    expect(readdirSync(pruneDir).sort()).toEqual([id(2), "keys"]);
    expect(store.jobForKey("deploy-2")).toBe(id(2));
    expect(store.jobForKey("deploy-1")).toBeUndefined();
    expect(readdirSync(join(pruneDir, "keys"))).toEqual([keyFile("deploy-2")]);
  });
});

const small = mountSmallFilesystem();
afterAll(() => {
  if (!("cannot" in small)) small.remove();
});

describe("JobStore on a full disk", () => {
  // A real ENOSPC from the kernel (a filled tmpfs), not a mocked fs: see fixtures/full-filesystem.ts.
  it.skipIf("cannot" in small)(
    `degrades to memory with one warning, never throwing, and keeps the last status it wrote whole${"cannot" in small ? ` (skipped: ${small.cannot})` : ""}`,
    () => {
      if ("cannot" in small) return;
      const warnings: string[] = [];
      const store = new JobStore(join(small.dir, "state"), 4242, (message) => warnings.push(message));
      const at = new Date();
      const running = { state: JobState.RUNNING, exitCode: undefined, reason: "", createdAt: at, startedAt: at };
      store.writeStatus(id(1), { ...running, finishedAt: undefined });
      small.fill();
      // Every write below fails with ENOSPC: a status rewrite, a second job's first record and its log file.
      store.writeStatus(id(1), { ...running, state: JobState.SUCCEEDED, exitCode: 0, finishedAt: at });
      store.writeStatus(id(2), { ...running, finishedAt: undefined });
      // Creating the log never throws: in the record when the file can still be made, else in a spool file.
      expect(() => store.createLogFile(id(2)).dispose()).not.toThrow();
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/cannot write job records in state_dir .*\/state \(ENOSPC: /);
      // The record keeps the last status written before the disk filled, whole (write then rename).
      expect(store.load(id(1))?.status.state).toBe(JobState.RUNNING);
    },
  );
});

describe("JobStore idempotency keys", () => {
  const snapshot = {
    state: JobState.RUNNING,
    exitCode: undefined,
    reason: "",
    createdAt: new Date(),
    startedAt: new Date(),
    finishedAt: undefined,
  };
  // A pid far above Linux's default pid_max: no process has it.
  const DEAD_PID = 99_999_999;

  it("gives a key to the first claimant; another store (a later plugin process) gets that job for it", () => {
    const keysDir = mkdtempSync(join(tmpdir(), "flotilla-keys-"));
    try {
      const first = new JobStore(keysDir, process.pid);
      expect(first.claimKey("deploy-1", id(1))).toBeUndefined();
      first.writeStatus(id(1), snapshot);
      const later = new JobStore(keysDir, 4242);
      expect(later.claimKey("deploy-1", id(2))).toBe(id(1));
      expect(later.jobForKey("deploy-1")).toBe(id(1));
      expect(later.jobForKey("deploy-2")).toBeUndefined();
      // The key file is named by the key's hash: a key is not a path.
      expect(readdirSync(join(keysDir, "keys"))).toEqual([createHash("sha256").update("deploy-1").digest("hex")]);
    } finally {
      rmSync(keysDir, { recursive: true, force: true });
    }
  });

  it("takes over a key whose claimant died before recording its job, and gives a released key out again", () => {
    const keysDir = mkdtempSync(join(tmpdir(), "flotilla-keys-"));
    try {
      mkdirSync(join(keysDir, "keys"), { recursive: true });
      const hash = createHash("sha256").update("deploy-1").digest("hex");
      writeFileSync(join(keysDir, "keys", hash), JSON.stringify({ jobId: id(7), pid: DEAD_PID }));
      const store = new JobStore(keysDir, process.pid);
      expect(store.claimKey("deploy-1", id(8))).toBeUndefined();
      expect(store.claimKey("deploy-1", id(9))).toBe(id(8));
      store.releaseKey("deploy-1", id(8));
      expect(store.claimKey("deploy-1", id(9))).toBeUndefined();
    } finally {
      rmSync(keysDir, { recursive: true, force: true });
    }
  });
});
