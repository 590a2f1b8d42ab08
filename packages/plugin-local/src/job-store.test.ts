import { mkdtempSync, readdirSync, rmSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JobState, LogStream } from "@flotilla/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { JobStore } from "./job-store.js";

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
});
