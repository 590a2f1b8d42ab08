/**
 * Job records on disk, so that a later plugin process (a later `flotilla
 * jobs status|logs` invocation) can still answer for a job after the plugin
 * that ran it has stopped.
 *
 * Layout under the configured `state_dir`: one directory per job id with
 * `job.json` (the latest status, rewritten on every state change) and
 * `log.jsonl` (one line per log line, appended as the job writes). Writes are
 * synchronous: they also happen from the process's `exit` event, and a local
 * job's output rate is far below what appendFileSync sustains.
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { JobState, type LogStream } from "@flotilla/protocol";
import type { JobLogEntry } from "./job-log.js";
import type { LocalJobSnapshot } from "./local-job.js";

/** What job.json holds. */
export interface StoredJobStatus {
  state: JobState;
  exitCode?: number;
  reason: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** The plugin process that ran the job, to tell "still running elsewhere" from "lost". */
  pluginPid: number;
}

/** A job read back from disk. */
export interface StoredJob {
  status: StoredJobStatus;
  lines: Array<{ stream: LogStream; text: string; time: Date }>;
}

/** How many job records are kept; older ones are deleted when a plugin starts. */
export const DEFAULT_MAX_STORED_JOBS = 200;

const JOB_ID = /^[0-9a-f-]{36}$/;

/** Reads and writes job records in one directory. */
export class JobStore {
  constructor(
    /** The state directory; created on first write. */
    readonly dir: string,
    private readonly pluginPid: number = process.pid,
  ) {}

  /** Records a job's status (creating its record on first call). */
  writeStatus(id: string, snapshot: LocalJobSnapshot): void {
    const status: StoredJobStatus = {
      state: snapshot.state,
      reason: snapshot.reason,
      createdAt: snapshot.createdAt.toISOString(),
      pluginPid: this.pluginPid,
    };
    if (snapshot.exitCode !== undefined) status.exitCode = snapshot.exitCode;
    if (snapshot.startedAt) status.startedAt = snapshot.startedAt.toISOString();
    if (snapshot.finishedAt) status.finishedAt = snapshot.finishedAt.toISOString();
    mkdirSync(join(this.dir, id), { recursive: true });
    // Write then rename would be atomic, but a reader tolerates a torn file by retrying; keep it simple.
    writeFileSync(join(this.dir, id, "job.json"), `${JSON.stringify(status)}\n`);
  }

  /** Appends one log line to a job's record. */
  appendLine(id: string, entry: JobLogEntry): void {
    mkdirSync(join(this.dir, id), { recursive: true });
    appendFileSync(
      join(this.dir, id, "log.jsonl"),
      `${JSON.stringify({ s: entry.stream, t: entry.text, at: entry.time.getTime() })}\n`,
    );
  }

  /** Reads a job back; undefined when there is no record of it. */
  load(id: string): StoredJob | undefined {
    if (!JOB_ID.test(id)) return undefined;
    let status: StoredJobStatus;
    try {
      status = JSON.parse(readFileSync(join(this.dir, id, "job.json"), "utf8"));
    } catch {
      return undefined;
    }
    let text = "";
    try {
      text = readFileSync(join(this.dir, id, "log.jsonl"), "utf8");
    } catch {
      // A job that wrote nothing has no log file.
    }
    const lines = text
      .split("\n")
      .filter((l) => l !== "")
      .flatMap((l) => {
        try {
          const { s, t, at } = JSON.parse(l) as { s: LogStream; t: string; at: number };
          return [{ stream: s, text: t, time: new Date(at) }];
        } catch {
          return []; // A line cut short by a crash.
        }
      });
    return { status, lines };
  }

  /** Deletes all but the `keep` most recently changed job records. */
  prune(keep: number = DEFAULT_MAX_STORED_JOBS): void {
    let entries: Array<{ id: string; mtime: number }>;
    try {
      entries = readdirSync(this.dir)
        .filter((id) => JOB_ID.test(id))
        .map((id) => ({ id, mtime: statSync(join(this.dir, id)).mtimeMs }));
    } catch {
      return; // No state directory yet.
    }
    entries.sort((a, b) => b.mtime - a.mtime);
    for (const { id } of entries.slice(keep)) rmSync(join(this.dir, id), { recursive: true, force: true });
  }
}

/** True when the status is RUNNING or PENDING, i.e. not final. */
export function isLiveState(state: JobState): boolean {
  return state === JobState.RUNNING || state === JobState.PENDING;
}
