/**
 * Job records on disk, so that a later plugin process (a later `flotilla
 * jobs status|logs` invocation) can still answer for a job after the plugin
 * that ran it has stopped.
 *
 * Layout under the configured `state_dir`: one directory per job id with
 * `job.json` (the latest status, rewritten on every state change) and
 * `log.jsonl` (every log line, appended as the job writes: see log-file.ts,
 * which writes and reads it; the running job's JobLog owns it); a durable
 * job's directory also holds its supervisor's own log (`supervisor.log`) and,
 * while a cancel is on its way, `cancel.json`. `keys/` maps each idempotency
 * key seen (by its SHA-256) to the job it started, so a RunJob retried by a
 * later plugin process (a host that restarted) finds that job.
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
import { createHash } from "node:crypto";
import {
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isProcessAlive } from "@flotilla/process";
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
  /** The process that runs the job (a plugin, or a durable job's supervisor), to tell "still running elsewhere" from "lost". */
  pluginPid: number;
  /** A durable job: its supervisor (pluginPid) runs it apart from any plugin, and takes cancels by signal. */
  supervised?: true;
}

/** A job read back from disk: its status, and where its log is (read with {@link LogFile.open}). */
export interface StoredJob {
  status: StoredJobStatus;
  logPath: string;
}

/** How many job records are kept; older ones are deleted when a plugin starts. */
export const DEFAULT_MAX_STORED_JOBS = 200;

const JOB_ID = /^[0-9a-f-]{36}$/;

/** Who claimed an idempotency key: the job it starts, and the process starting it. */
interface KeyClaim {
  jobId: string;
  pid: number;
}

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
    /** The writer is a durable job's supervisor: its records say so. */
    private readonly supervised = false,
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
    if (this.supervised) status.supervised = true;
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

  /** The job's directory (made owner-only when missing), e.g. for its supervisor's files. */
  jobDirectory(id: string): string {
    return this.jobDir(id);
  }

  /**
   * Claims an idempotency key for job `id` (started by this process). Returns undefined when the claim is
   * this one's; else the job that holds the key: one recorded, or one still starting in a live process. A
   * claim whose process died before the job was recorded is taken over. Atomic across processes (a link).
   */
  claimKey(key: string, id: string): string | undefined {
    const path = this.keyPath(key);
    const mine: KeyClaim = { jobId: id, pid: process.pid };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        mkdirSync(join(this.dir, "keys"), { recursive: true, mode: STORE_DIR_MODE });
        const draft = `${path}.${process.pid}.${id}`;
        writeFileSync(draft, JSON.stringify(mine), { mode: STORE_FILE_MODE });
        try {
          linkSync(draft, path);
          return undefined;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        } finally {
          unlinkSync(draft);
        }
      } catch (err) {
        // A key store that cannot be written (a full disk) deduplicates within this process only.
        this.reportFailure(err);
        return undefined;
      }
      const claim = this.readClaim(path);
      if (claim === undefined) continue; // Released meanwhile: claim it again.
      if (this.load(claim.jobId) || (claim.pid !== process.pid && isProcessAlive(claim.pid))) return claim.jobId;
      if (claim.pid === process.pid) return claim.jobId;
      // Claimed by a process that died before recording the job: the job never started; take the key over.
      try {
        unlinkSync(path);
      } catch {
        // Someone else took it over first; the next attempt reads their claim.
      }
    }
    return this.readClaim(path)?.jobId;
  }

  /** The job an idempotency key started, if a record of it is kept. */
  jobForKey(key: string): string | undefined {
    const claim = this.readClaim(this.keyPath(key));
    return claim && this.load(claim.jobId) ? claim.jobId : undefined;
  }

  /** Gives a key up that job `id` claimed but never started (its start failed), so a retry can start it. */
  releaseKey(key: string, id: string): void {
    const path = this.keyPath(key);
    if (this.readClaim(path)?.jobId === id) rmSync(path, { force: true });
  }

  private keyPath(key: string): string {
    return join(this.dir, "keys", createHash("sha256").update(key).digest("hex"));
  }

  private readClaim(path: string): KeyClaim | undefined {
    try {
      const claim = JSON.parse(readFileSync(path, "utf8")) as KeyClaim;
      return typeof claim.jobId === "string" && typeof claim.pid === "number" ? claim : undefined;
    } catch {
      return undefined;
    }
  }

  /** Deletes all but the `keep` most recently changed job records, and the keys of the jobs deleted. */
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
      const status = this.load(id)?.status;
      // Still being written by a job elsewhere (a durable job's supervisor, another plugin).
      if (status && isLiveState(status.state) && isProcessAlive(status.pluginPid)) continue;
      rmSync(join(this.dir, id), { recursive: true, force: true });
      this.madeDirs.delete(id);
    }
    this.pruneKeys();
  }

  /** Deletes the key claims of jobs whose records are gone (and of claims left by processes that died). */
  private pruneKeys(): void {
    let names: string[];
    try {
      names = readdirSync(join(this.dir, "keys"));
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(this.dir, "keys", name);
      const claim = this.readClaim(path);
      if (claim && (this.load(claim.jobId) || isProcessAlive(claim.pid))) continue;
      // A draft or claim of a process that is gone, for a job with no record.
      if (!claim && /\.\d+\./.test(name) && isProcessAlive(Number(name.split(".")[1]))) continue;
      rmSync(path, { force: true });
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
      this.reportFailure(err);
      return false;
    }
  }

  /** Reports a failed write, the first time only. */
  private reportFailure(err: unknown): void {
    if (this.failureReported) return;
    this.failureReported = true;
    const error = err as NodeJS.ErrnoException;
    this.warn(
      `local provider: cannot write job records in state_dir ${this.dir} (${error.code ?? error.name}: ${error.message}); jobs go on and this plugin answers their status and logs, but their records may be incomplete; free space on that filesystem, or set state_dir to a writable directory`,
    );
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
