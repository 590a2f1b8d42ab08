import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JobState, LogStream } from "@flotilla/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { mountSmallFilesystem } from "./fixtures/full-filesystem.js";
import { JobStore, STORE_DIR_MODE, STORE_FILE_MODE } from "./job-store.js";

const dir = mkdtempSync(join(tmpdir(), "flotilla-store-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

describe("JobStore", () => {
  it("round-trips a job's status and log lines", () => {
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
    store.appendLine(id(1), { stream: LogStream.STDOUT, text: "one", time: createdAt, cursor: "1" });
    store.appendLine(id(1), { stream: LogStream.STDERR, text: "two", time: createdAt, cursor: "2" });
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
    expect(record?.lines.map((l) => [l.stream, l.text])).toEqual([
      [LogStream.STDOUT, "one"],
      [LogStream.STDERR, "two"],
    ]);
  });

  it("has no record for unknown or malformed ids", () => {
    const store = new JobStore(dir);
    expect(store.load(id(99))).toBeUndefined();
    expect(store.load("../../etc")).toBeUndefined();
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
    store.appendLine(id(7), { stream: LogStream.STDOUT, text: "token=hunter2", time: at, cursor: "1" });
    store.flushAll();
    const mode = (path: string) => statSync(path).mode & 0o777;
    expect(mode(stateDir)).toBe(STORE_DIR_MODE);
    expect(mode(join(stateDir, id(7)))).toBe(STORE_DIR_MODE);
    expect(mode(join(stateDir, id(7), "job.json"))).toBe(STORE_FILE_MODE);
    expect(mode(join(stateDir, id(7), "log.jsonl"))).toBe(STORE_FILE_MODE);
  });

  it("batches a running job's lines: they reach the file soon, a reader sees them at once, and a final status closes the file", async () => {
    const store = new JobStore(join(dir, "batched"));
    const at = new Date();
    const snapshot = {
      state: JobState.RUNNING,
      exitCode: undefined,
      reason: "",
      createdAt: at,
      startedAt: at,
      finishedAt: undefined,
    };
    store.writeStatus(id(8), snapshot);
    for (let n = 0; n < 1000; n++) {
      store.appendLine(id(8), { stream: LogStream.STDOUT, text: `line ${n}`, time: at, cursor: String(n + 1) });
    }
    expect(store.openLogCount).toBe(1);
    // A second store is a reader in another process: it sees only what reached the file.
    const otherProcess = new JobStore(join(dir, "batched"));
    await expect.poll(() => otherProcess.load(id(8))?.lines.length, { timeout: 5_000 }).toBe(1000);
    store.appendLine(id(8), { stream: LogStream.STDERR, text: "last", time: at, cursor: "1001" });
    expect(store.load(id(8))?.lines.at(-1)?.text).toBe("last");
    store.appendLine(id(8), { stream: LogStream.STDOUT, text: "after", time: at, cursor: "1002" });
    store.writeStatus(id(8), { ...snapshot, state: JobState.SUCCEEDED, exitCode: 0, finishedAt: at });
    expect(store.openLogCount).toBe(0);
    const lines = readFileSync(join(dir, "batched", id(8), "log.jsonl"), "utf8")
      .trimEnd()
      .split("\n");
    expect(lines).toHaveLength(1002);
    expect(JSON.parse(lines[0] ?? "")).toEqual({ s: LogStream.STDOUT, t: "line 0", at: at.getTime() });
    expect(
      otherProcess
        .load(id(8))
        ?.lines.map((l) => l.text)
        .slice(-2),
    ).toEqual(["last", "after"]);
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
      store.appendLine(id(1), { stream: LogStream.STDOUT, text: "before the disk filled", time: at, cursor: "1" });
      store.flushAll();
      small.fill();
      // More than one batch of lines (64 KiB), so they are written at once from appendLine, as a flood is.
      for (let n = 2; n <= 3000; n++) {
        store.appendLine(id(1), {
          stream: LogStream.STDOUT,
          text: `token=hunter2 line ${n}`,
          time: at,
          cursor: String(n),
        });
      }
      store.flushAll();
      store.writeStatus(id(1), { ...running, state: JobState.SUCCEEDED, exitCode: 0, finishedAt: at });
      store.writeStatus(id(2), { ...running, finishedAt: undefined });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/cannot write job records in state_dir .*\/state \(ENOSPC: /);
      expect(warnings[0]).not.toContain("hunter2");
      expect(store.openLogCount).toBe(0);
      // The record keeps what was written before the disk filled: the status whole, the lines up to then.
      const record = store.load(id(1));
      expect(record?.status.state).toBe(JobState.RUNNING);
      // What still fitted in the log file's last block may be there too, a last line possibly cut short.
      expect(record?.lines[0]?.text).toBe("before the disk filled");
      expect(record?.lines.length).toBeLessThan(3000);
    },
  );
});
