/**
 * Job records on disk, so that a later plugin process (a later `flotilla
 * jobs status|logs` invocation) can still answer for a job after the plugin
 * that ran it has stopped.
 *
 * Layout under the configured `state_dir`: one directory per job id with
 * `job.json` (the latest status, rewritten on every state change) and
 * `log.jsonl` (every log line, appended as the job writes: see log-file.ts,
 * which writes and reads it; the running job's JobLog owns it).
 *
 * Records hold whatever jobs print, secrets included, so directories are
 * created 0700 and files 0600 (owner only).
 *
 * A record is a copy: the running plugin answers from its jobs. So a write
 * that fails (a full disk, ENOSPC; a failing one, EIO) never reaches the job
 * or the plugin: recording degrades, the failure is reported once through
 * `warn`, and a log that cannot be created in the record is kept in a spool
 * file in the temp directory instead, as without a state_dir.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JobState } from "@flotilla/protocol";
import type { LocalJobSnapshot } from "./local-job.js";
import { LogFile } from "./log-file.js";

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

/** A job read back from disk: its status, and where its log is (read with {@link LogFile.open}). */
export interface StoredJob {
  status: StoredJobStatus;
  logPath: string;
}

/** How many job records are kept; older ones are deleted when a plugin starts. */
export const DEFAULT_MAX_STORED_JOBS = 200;

const JOB_ID = /^[0-9a-f-]{36}$/;

/** Directories of the store: only their owner may list or enter them. */
export const STORE_DIR_MODE = 0o700;
/** Files of the store: only their owner may read them (they hold job output). */
export const STORE_FILE_MODE = 0o600;
/** Reads and writes job records in one directory. */
export class JobStore {
  /** Jobs whose directory exists (created by this store), so it is made once per job, not per write. */
  private readonly madeDirs = new Set<string>();
  /** Jobs of this store not final yet: their records are never pruned. */
  private readonly liveJobs = new Set<string>();
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
    if (isLiveState(snapshot.state)) this.liveJobs.add(id);
    else {
      this.liveJobs.delete(id);
      this.madeDirs.delete(id);
    }
  }

  /**
   * A new log file in the job's record, for the job's JobLog to write; a spool file in the temp directory
   * when the record's cannot be created (the log then lives as long as the job is held, as without a state_dir).
   */
  createLogFile(id: string): LogFile {
    let file: LogFile | undefined;
    this.record(() => {
      file = LogFile.create(join(this.jobDir(id), "log.jsonl"));
    });
    return file ?? LogFile.create(join(tmpdir(), `flotilla-local-log-${id}`), { spool: true });
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
    return { status, logPath: join(this.dir, id, "log.jsonl") };
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
      if (this.liveJobs.has(id)) continue; // Still being written by a job here.
      rmSync(join(this.dir, id), { recursive: true, force: true });
      this.madeDirs.delete(id);
    }
  }

  /**
   * Runs one write of a record; false when it failed. The failure is reported once per store: a full disk
   * fails every write, and a warning per write would flood the plugin's log. Only the error's code and
   * message are reported, never what was being written (job output may hold secrets).
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
          `local provider: cannot write job records in state_dir ${this.dir} (${error.code ?? error.name}: ${error.message}); jobs go on and this plugin answers their status and logs, but their records may be incomplete; free space on that filesystem, or set state_dir to a writable directory`,
        );
      }
      return false;
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
}

/** True when the status is RUNNING or PENDING, i.e. not final. */
export function isLiveState(state: JobState): boolean {
  return state === JobState.RUNNING || state === JobState.PENDING;
}
