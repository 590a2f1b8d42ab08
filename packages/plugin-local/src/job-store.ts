/**
 * Job records on disk, so that a later plugin process (a later `flotilla
 * jobs status|logs` invocation) can still answer for a job after the plugin
 * that ran it has stopped.
 *
 * Layout under the configured `state_dir`: one directory per job id with
 * `job.json` (the latest status, rewritten on every state change) and
 * `log.jsonl` (one line per log line, appended as the job writes).
 *
 * Records hold whatever jobs print, secrets included, so directories are
 * created 0700 and files 0600 (owner only). Log lines are batched: each
 * running job keeps its log file open and its pending lines are written in
 * one synchronous write a few milliseconds later, instead of a mkdir and an
 * open/append/close per line on the event loop that serves gRPC. Writes stay
 * synchronous because the final ones happen from the process's `exit` event.
 *
 * A record is a copy: the running plugin answers from memory. So a write that
 * fails (a full disk, ENOSPC; a failing one, EIO) never reaches the job or the
 * plugin: recording degrades, the failure is reported once through `warn`,
 * and a job whose log could not be written stops being logged to disk (rather
 * than leaving a record with a hole in the middle).
 */
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
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

/** Directories of the store: only their owner may list or enter them. */
export const STORE_DIR_MODE = 0o700;
/** Files of the store: only their owner may read them (they hold job output). */
export const STORE_FILE_MODE = 0o600;
/** How long log lines wait to be written together. */
const LOG_FLUSH_DELAY_MS = 20;
/** Pending log bytes that trigger a write at once, bounding memory under a flood of output. */
const LOG_FLUSH_BYTES = 64 * 1024;

/** A running job's open log file (undefined once writing it failed) and the lines not yet written to it. */
interface OpenLog {
  fd: number | undefined;
  pending: string[];
  pendingBytes: number;
}

/** Reads and writes job records in one directory. */
export class JobStore {
  /** Jobs whose directory exists (created by this store), so it is made once per job, not per write. */
  private readonly madeDirs = new Set<string>();
  private readonly openLogs = new Map<string, OpenLog>();
  private flushTimer: NodeJS.Timeout | undefined;
  /** Set once a write failed and was reported: the report is made once, not per write. */
  private failureReported = false;

  constructor(
    /** The state directory; created on first write. */
    readonly dir: string,
    private readonly pluginPid: number = process.pid,
    /** Told, once, that a record could not be written (e.g. the plugin's logger's warn). */
    private readonly warn: (message: string) => void = () => {},
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
    const text = `${JSON.stringify(status)}\n`;
    this.record(() => {
      const file = join(this.jobDir(id), "job.json");
      // Write then rename: a write cut short (a full disk) leaves the previous status whole, not an empty file.
      writeFileSync(`${file}.new`, text, { mode: STORE_FILE_MODE });
      renameSync(`${file}.new`, file);
    });
    // A final status is the job's last record: its log is complete, write it out and let go of the file.
    if (!isLiveState(snapshot.state)) this.closeJob(id);
  }

  /** Queues one log line of a job for writing (within milliseconds, or at its final status). */
  appendLine(id: string, entry: JobLogEntry): void {
    let log = this.openLogs.get(id);
    if (!log) {
      let fd: number | undefined;
      this.record(() => {
        fd = openSync(join(this.jobDir(id), "log.jsonl"), "a", STORE_FILE_MODE);
      });
      log = { fd, pending: [], pendingBytes: 0 };
      this.openLogs.set(id, log);
    }
    // A log that could not be written is not written any more: its lines live in memory only.
    if (log.fd === undefined) return;
    const line = `${JSON.stringify({ s: entry.stream, t: entry.text, at: entry.time.getTime() })}\n`;
    log.pending.push(line);
    log.pendingBytes += line.length;
    if (log.pendingBytes >= LOG_FLUSH_BYTES) this.flush(id);
    else if (!this.flushTimer) {
      // Unref'd: pending lines never keep a process alive; the final status write flushes them.
      this.flushTimer = setTimeout(() => this.flushFromTimer(), LOG_FLUSH_DELAY_MS);
      this.flushTimer.unref();
    }
  }

  /** Writes every job's pending log lines now, e.g. before the process exits. */
  flushAll(): void {
    for (const id of this.openLogs.keys()) this.flush(id);
  }

  /** How many jobs have a log file open (for tests: finished jobs must hold none). */
  get openLogCount(): number {
    return this.openLogs.size;
  }

  /** Reads a job back; undefined when there is no record of it. */
  load(id: string): StoredJob | undefined {
    if (!JOB_ID.test(id)) return undefined;
    // Lines of a job this process still runs may wait in memory; a reader must see them.
    this.flush(id);
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
    for (const { id } of entries.slice(keep)) {
      if (this.openLogs.has(id)) continue; // Still being written by a job here.
      rmSync(join(this.dir, id), { recursive: true, force: true });
      this.madeDirs.delete(id);
    }
  }

  /** The job's directory, created (owner-only, like the state directory) on first use. */
  private jobDir(id: string): string {
    const dir = join(this.dir, id);
    if (!this.madeDirs.has(id)) {
      // `mode` applies to directories mkdir creates; an existing state_dir keeps its mode,
      // but the owner-only job directories inside it still keep other users out.
      mkdirSync(this.dir, { recursive: true, mode: STORE_DIR_MODE });
      mkdirSync(dir, { recursive: true, mode: STORE_DIR_MODE });
      this.madeDirs.add(id);
    }
    return dir;
  }

  private flush(id: string): void {
    const log = this.openLogs.get(id);
    if (!log || log.fd === undefined || log.pending.length === 0) return;
    const { fd } = log;
    const bytes = Buffer.from(log.pending.join(""));
    log.pending = [];
    log.pendingBytes = 0;
    const written = this.record(() => {
      // writeSync may write part of the bytes (a disk filling up); the rest is written on, or the failure thrown.
      for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
    });
    if (!written) this.stopLogging(log);
  }

  private flushFromTimer(): void {
    this.flushTimer = undefined;
    this.flushAll();
  }

  private closeJob(id: string): void {
    const log = this.openLogs.get(id);
    if (!log) return;
    this.flush(id);
    this.openLogs.delete(id);
    this.madeDirs.delete(id);
    this.stopLogging(log);
  }

  /** Closes a job's log file; its lines from now on stay in memory only. */
  private stopLogging(log: OpenLog): void {
    if (log.fd !== undefined) this.record(() => closeSync(log.fd as number));
    log.fd = undefined;
    log.pending = [];
    log.pendingBytes = 0;
  }

  /**
   * Runs one write of a record; false when it failed. The failure is reported
   * once per store: a full disk fails every write, and a warning per line would
   * flood the plugin's log. Only the error's code and message are reported,
   * never what was being written (job output may hold secrets).
   */
  private record(write: () => void): boolean {
    try {
      write();
      return true;
    } catch (err) {
      if (!this.failureReported) {
        this.failureReported = true;
        const error = err as NodeJS.ErrnoException;
        this.warn(
          `local provider: cannot write job records in state_dir ${this.dir} (${error.code ?? error.name}: ${error.message}); jobs go on, and this plugin answers their status and logs from memory, but their records may be incomplete; free space on that filesystem, or set state_dir to a writable directory`,
        );
      }
      return false;
    }
  }
}

/** True when the status is RUNNING or PENDING, i.e. not final. */
export function isLiveState(state: JobState): boolean {
  return state === JobState.RUNNING || state === JobState.PENDING;
}
