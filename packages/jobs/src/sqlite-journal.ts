/**
 * The embedded job journal: one SQLite file through Node's built-in
 * `node:sqlite` (no native module to build, nothing to install).
 *
 * Several processes on one machine share the file (the CLI, a daemon, a
 * restarted host): SQLite's write-ahead log lets readers go on while one
 * writer commits, and a writer waits up to `busyTimeoutMs` for another's
 * commit. Every write transaction starts with BEGIN IMMEDIATE, so two
 * writers queue instead of failing with SQLITE_BUSY halfway through.
 *
 * Durability: a commit survives the process being killed (SIGKILL) at any
 * point. The commits that decide whether a job exists — `record` and
 * `setHandle` — are also synced to disk before they return
 * (synchronous=FULL), so a power cut cannot lose a job whose provider was
 * called; state changes and log lines use synchronous=NORMAL (a power cut
 * may lose the last of them, and the follower reads them again from the
 * provider, from the cursor that was kept).
 *
 * The file holds what jobs print, which may include secrets: it is created
 * owner-only (0600) in a directory created owner-only (0700); SQLite gives
 * its -wal and -shm files the same mode.
 */
import { randomUUID } from "node:crypto";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { type DatabaseSync, type SQLInputValue, DatabaseSync as SqliteDatabase } from "node:sqlite";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FailedPreconditionError, JobHandleSchema, JobSpecSchema } from "@flotilla/protocol";
import {
  type HeldJob,
  idempotencyConflict,
  isFinalState,
  type JobJournal,
  type JobRef,
  type JournalJob,
  type JournalLogLine,
  type JournalOutcome,
  type JournalQuery,
  type JournalState,
  type JournalTransition,
  LeaseLostError,
  type NewJournalJob,
  type NewJournalLogLine,
} from "./journal.js";
import { decodeChunk, encodeChunk } from "./log-chunk.js";
import { specDigest } from "./spec-digest.js";

/** The schema version this code reads and writes (PRAGMA user_version). */
export const SQLITE_JOURNAL_SCHEMA_VERSION = 1;

/** How long a write waits for another process's commit before failing. */
export const DEFAULT_BUSY_TIMEOUT_MS = 10_000;

/** Options of {@link SqliteJournal.open}. */
export interface SqliteJournalOptions {
  /** How long a write waits for another process's commit; default {@link DEFAULT_BUSY_TIMEOUT_MS}. */
  readonly busyTimeoutMs?: number;
  /** The clock leases and timestamps are read from (tests pass their own). */
  readonly now?: () => number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  key INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  provider TEXT NOT NULL,
  idempotency_key TEXT NOT NULL UNIQUE,
  spec BLOB NOT NULL,
  spec_digest TEXT NOT NULL,
  handle_provider TEXT,
  handle_job_id TEXT,
  state TEXT NOT NULL,
  finished INTEGER NOT NULL DEFAULT 0,
  exit_code INTEGER,
  provider_exit_code INTEGER,
  reason TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  finished_at INTEGER,
  log_lines INTEGER NOT NULL DEFAULT 0,
  log_cursor TEXT NOT NULL DEFAULT '',
  cancel_reason TEXT,
  cancel_requested_at INTEGER,
  lease_owner TEXT,
  lease_expires_at INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_by_handle ON jobs (provider, handle_job_id) WHERE handle_job_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS jobs_by_finished ON jobs (finished, created_at);
CREATE INDEX IF NOT EXISTS jobs_by_owner ON jobs (lease_owner) WHERE lease_owner IS NOT NULL;
CREATE TABLE IF NOT EXISTS job_transitions (
  job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  at INTEGER NOT NULL,
  state TEXT NOT NULL,
  reason TEXT NOT NULL,
  exit_code INTEGER,
  PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS job_log (
  job INTEGER NOT NULL REFERENCES jobs (key) ON DELETE CASCADE,
  first_seq INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  at INTEGER NOT NULL,
  lines TEXT NOT NULL,
  PRIMARY KEY (job, first_seq)
);
`;

interface JobRow {
  key: number;
  id: string;
  provider: string;
  idempotency_key: string;
  spec: Uint8Array;
  spec_digest: string;
  handle_provider: string | null;
  handle_job_id: string | null;
  state: string;
  finished: number;
  exit_code: number | null;
  provider_exit_code: number | null;
  reason: string;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
  log_lines: number;
  log_cursor: string;
  cancel_reason: string | null;
  cancel_requested_at: number | null;
  lease_owner: string | null;
  lease_expires_at: number | null;
}

/** The job journal in one SQLite file. */
export class SqliteJournal implements JobJournal {
  readonly location: string;
  readonly #db: DatabaseSync;
  readonly #now: () => number;

  private constructor(location: string, db: DatabaseSync, now: () => number) {
    this.location = location;
    this.#db = db;
    this.#now = now;
  }

  /**
   * Opens (creating when missing) the journal at `path`; ":memory:" for one that lives as long as this object.
   * A journal written by a newer Flotilla (a schema version this code does not know) is refused, not changed.
   */
  static open(path: string, options: SqliteJournalOptions = {}): SqliteJournal {
    if (path !== ":memory:") {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      // Created here, owner-only, before SQLite opens it: SQLite would create it with the umask's mode.
      closeSync(openSync(path, "a", 0o600));
    }
    const db = new SqliteDatabase(path, { timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS });
    try {
      db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;");
      const { user_version: version } = db.prepare("PRAGMA user_version").get() as { user_version: number };
      if (version > SQLITE_JOURNAL_SCHEMA_VERSION) {
        throw new FailedPreconditionError(
          `job journal ${path} has schema version ${version}, newer than this Flotilla knows (${SQLITE_JOURNAL_SCHEMA_VERSION}); use the Flotilla that wrote it, or point the journal elsewhere`,
        );
      }
      transaction(db, () => {
        db.exec(SCHEMA);
        db.exec(`PRAGMA user_version = ${SQLITE_JOURNAL_SCHEMA_VERSION}`);
      });
    } catch (error) {
      db.close();
      throw error;
    }
    return new SqliteJournal(path, db, options.now ?? Date.now);
  }

  async record(job: NewJournalJob, owner: string, leaseMs: number): Promise<{ job: JournalJob; created: boolean }> {
    const key = job.spec.idempotencyKey;
    if (key === "") throw new RangeError("journal: a job is recorded with an idempotency key; the spec has none");
    const digest = specDigest(job.spec);
    const now = this.#now();
    const id = randomUUID();
    const existing = this.#synced(() =>
      transaction(this.#db, () => {
        const found = this.#row("SELECT * FROM jobs WHERE idempotency_key = ?", key);
        if (found) return found;
        this.#db
          .prepare(
            `INSERT INTO jobs (id, provider, idempotency_key, spec, spec_digest, state, created_at, updated_at, lease_owner, lease_expires_at)
             VALUES (?, ?, ?, ?, ?, 'dispatching', ?, ?, ?, ?)`,
          )
          .run(id, job.provider, key, toBinary(JobSpecSchema, job.spec), digest, now, now, owner, now + leaseMs);
        this.#transition(id, now, "dispatching", "", null);
        return undefined;
      }),
    );
    if (existing) {
      if (existing.spec_digest !== digest || existing.provider !== job.provider) {
        throw idempotencyConflict(key, existing.id, existing.provider);
      }
      return { job: toJob(existing), created: false };
    }
    return { job: toJob(this.#row("SELECT * FROM jobs WHERE id = ?", id) as JobRow), created: true };
  }

  async get(id: string): Promise<JournalJob | undefined> {
    const row = this.#row("SELECT * FROM jobs WHERE id = ?", id);
    return row && toJob(row);
  }

  async findByHandle(ref: JobRef): Promise<JournalJob | undefined> {
    // Not unique: a provider may issue a job id again (one that numbers its jobs from 1 each time it starts).
    const row = this.#row(
      "SELECT * FROM jobs WHERE provider = ? AND handle_job_id = ? ORDER BY created_at DESC, key DESC LIMIT 1",
      ref.provider,
      ref.jobId,
    );
    return row && toJob(row);
  }

  async findByKey(idempotencyKey: string): Promise<JournalJob | undefined> {
    const row = this.#row("SELECT * FROM jobs WHERE idempotency_key = ?", idempotencyKey);
    return row && toJob(row);
  }

  async list(query: JournalQuery = {}): Promise<JournalJob[]> {
    const where: string[] = [];
    const params: SQLInputValue[] = [];
    if (query.unfinished) where.push("finished = 0");
    if (query.provider !== undefined) {
      where.push("provider = ?");
      params.push(query.provider);
    }
    params.push(query.limit ?? 100);
    const rows = this.#db
      .prepare(
        `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at DESC, key DESC LIMIT ?`,
      )
      .all(...params) as unknown as JobRow[];
    return rows.map(toJob);
  }

  async claim(id: string, owner: string, leaseMs: number, replacing?: string): Promise<JournalJob | undefined> {
    const now = this.#now();
    const changed = this.#db
      .prepare(
        `UPDATE jobs SET lease_owner = ?, lease_expires_at = ?
         WHERE id = ? AND finished = 0
           AND (lease_owner IS NULL OR lease_owner = ? OR lease_expires_at <= ? OR lease_owner = ?)`,
      )
      .run(owner, now + leaseMs, id, owner, now, replacing ?? null).changes;
    if (Number(changed) === 0) return undefined;
    return this.get(id);
  }

  async heartbeat(owner: string, leaseMs: number): Promise<HeldJob[]> {
    const now = this.#now();
    return transaction(this.#db, () => {
      this.#db.prepare("UPDATE jobs SET lease_expires_at = ? WHERE lease_owner = ?").run(now + leaseMs, owner);
      const rows = this.#db.prepare("SELECT id, cancel_reason FROM jobs WHERE lease_owner = ?").all(owner) as Array<{
        id: string;
        cancel_reason: string | null;
      }>;
      return rows.map((row) => ({ id: row.id, cancelReason: row.cancel_reason ?? undefined }));
    });
  }

  async release(id: string, owner: string): Promise<void> {
    this.#db
      .prepare("UPDATE jobs SET lease_owner = NULL, lease_expires_at = NULL WHERE id = ? AND lease_owner = ?")
      .run(id, owner);
  }

  async setHandle(id: string, owner: string, handle: { provider: string; jobId: string }): Promise<void> {
    const now = this.#now();
    this.#synced(() =>
      transaction(this.#db, () => {
        const row = this.#owned(id, owner);
        this.#db
          .prepare("UPDATE jobs SET handle_provider = ?, handle_job_id = ?, updated_at = ? WHERE id = ?")
          .run(handle.provider, handle.jobId, now, id);
        if (row.state === "dispatching") this.#changeState(row, now, "pending", "", undefined);
      }),
    );
  }

  async setState(
    id: string,
    owner: string,
    change: { state: JournalState; reason: string; providerExitCode?: number | undefined },
  ): Promise<void> {
    const now = this.#now();
    transaction(this.#db, () => {
      const row = this.#owned(id, owner);
      this.#changeState(row, now, change.state, change.reason, change.providerExitCode);
    });
  }

  /** Stores the lines as one chunk (log-chunk.ts). */
  async appendLog(id: string, owner: string, lines: readonly NewJournalLogLine[], cursor: string): Promise<void> {
    const now = this.#now();
    const encoded = encodeChunk(lines);
    transaction(this.#db, () => {
      const row = this.#owned(id, owner);
      const last = row.log_lines + lines.length;
      if (lines.length > 0) {
        this.#db
          .prepare("INSERT INTO job_log (job, first_seq, last_seq, at, lines) VALUES (?, ?, ?, ?, ?)")
          .run(row.key, row.log_lines + 1, last, now, encoded);
      }
      this.#db.prepare("UPDATE jobs SET log_lines = ?, log_cursor = ? WHERE key = ?").run(last, cursor, row.key);
    });
  }

  async finish(id: string, owner: string, outcome: JournalOutcome): Promise<void> {
    const now = this.#now();
    transaction(this.#db, () => {
      const row = this.#owned(id, owner);
      this.#changeState(row, now, outcome.state, outcome.reason, outcome.providerExitCode ?? undefined);
      this.#db
        .prepare(
          `UPDATE jobs SET finished = 1, finished_at = ?, updated_at = ?, exit_code = ?, reason = ?,
             provider_exit_code = COALESCE(?, provider_exit_code), lease_owner = NULL, lease_expires_at = NULL
           WHERE id = ?`,
        )
        .run(now, now, outcome.exitCode ?? null, outcome.reason, outcome.providerExitCode ?? null, id);
    });
  }

  async readLog(id: string, afterSeq: number, limit: number): Promise<JournalLogLine[]> {
    const job = this.#db.prepare("SELECT key FROM jobs WHERE id = ?").get(id) as { key: number } | undefined;
    if (!job) return [];
    // The chunk holding line afterSeq + 1 (an index seek), then the chunks after it, until `limit` lines.
    const start = this.#db
      .prepare("SELECT MAX(first_seq) AS first FROM job_log WHERE job = ? AND first_seq <= ?")
      .get(job.key, afterSeq + 1) as { first: number | null };
    const chunks = this.#db
      .prepare("SELECT first_seq, at, lines FROM job_log WHERE job = ? AND first_seq >= ? ORDER BY first_seq")
      .iterate(job.key, start.first ?? 0) as Iterable<{ first_seq: number; at: number; lines: string }>;
    const out: JournalLogLine[] = [];
    for (const chunk of chunks) {
      decodeChunk(chunk.lines, chunk.first_seq, new Date(chunk.at), afterSeq, limit, out);
      if (out.length >= limit) break;
    }
    return out;
  }

  async transitions(id: string): Promise<JournalTransition[]> {
    const rows = this.#db
      .prepare("SELECT at, state, reason, exit_code FROM job_transitions WHERE job_id = ? ORDER BY seq")
      .all(id) as Array<{ at: number; state: string; reason: string; exit_code: number | null }>;
    return rows.map((row) => ({
      at: new Date(row.at),
      state: row.state as JournalState,
      reason: row.reason,
      exitCode: row.exit_code ?? undefined,
    }));
  }

  async requestCancel(id: string, reason: string): Promise<JournalJob | undefined> {
    this.#db
      .prepare(
        "UPDATE jobs SET cancel_reason = ?, cancel_requested_at = ? WHERE id = ? AND finished = 0 AND cancel_reason IS NULL",
      )
      .run(reason, this.#now(), id);
    return this.get(id);
  }

  async prune(keepFinished: number): Promise<number> {
    const result = this.#db
      .prepare(
        `DELETE FROM jobs WHERE finished = 1 AND key NOT IN
           (SELECT key FROM jobs WHERE finished = 1 ORDER BY finished_at DESC, key DESC LIMIT ?)`,
      )
      .run(keepFinished);
    return Number(result.changes);
  }

  async close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
  }

  /** Runs `work` with every commit synced to disk (synchronous=FULL), then back to NORMAL. */
  #synced<T>(work: () => T): T {
    this.#db.exec("PRAGMA synchronous = FULL");
    try {
      return work();
    } finally {
      this.#db.exec("PRAGMA synchronous = NORMAL");
    }
  }

  #row(sql: string, ...params: SQLInputValue[]): JobRow | undefined {
    return this.#db.prepare(sql).get(...params) as JobRow | undefined;
  }

  /** The job's row, when `owner` holds its lease; else LeaseLostError (or RangeError for an unknown job). */
  #owned(id: string, owner: string): JobRow {
    const row = this.#row("SELECT * FROM jobs WHERE id = ?", id);
    if (!row) throw new RangeError(`journal: no job ${id}`);
    if (row.lease_owner !== owner) throw new LeaseLostError(id, owner);
    return row;
  }

  #changeState(
    row: JobRow,
    now: number,
    state: JournalState,
    reason: string,
    providerExitCode: number | undefined,
  ): void {
    if (row.state === state && row.reason === reason) return;
    // A final state is not left: a late, stale status (polled before the job ended) does not undo it.
    if (isFinalState(row.state as JournalState) && !isFinalState(state)) return;
    this.#db
      .prepare(
        "UPDATE jobs SET state = ?, reason = ?, provider_exit_code = COALESCE(?, provider_exit_code), updated_at = ? WHERE id = ?",
      )
      .run(state, reason, providerExitCode ?? null, now, row.id);
    this.#transition(row.id, now, state, reason, providerExitCode ?? null);
    row.state = state;
    row.reason = reason;
  }

  #transition(id: string, at: number, state: JournalState, reason: string, exitCode: number | null): void {
    this.#db
      .prepare(
        `INSERT INTO job_transitions (job_id, seq, at, state, reason, exit_code)
         VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM job_transitions WHERE job_id = ?), ?, ?, ?, ?)`,
      )
      .run(id, id, at, state, reason, exitCode);
  }
}

/** Runs `work` in a write transaction (BEGIN IMMEDIATE: the write lock first, so writers queue, never deadlock). */
function transaction<T>(db: DatabaseSync, work: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = work();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

function toJob(row: JobRow): JournalJob {
  return {
    id: row.id,
    provider: row.provider,
    idempotencyKey: row.idempotency_key,
    spec: fromBinary(JobSpecSchema, row.spec),
    specDigest: row.spec_digest,
    handle:
      row.handle_job_id === null
        ? undefined
        : create(JobHandleSchema, { provider: row.handle_provider ?? row.provider, jobId: row.handle_job_id }),
    state: row.state as JournalState,
    finished: row.finished === 1,
    exitCode: row.exit_code ?? undefined,
    providerExitCode: row.provider_exit_code ?? undefined,
    reason: row.reason,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    finishedAt: row.finished_at === null ? undefined : new Date(row.finished_at),
    log: { lines: row.log_lines, cursor: row.log_cursor },
    cancelRequest:
      row.cancel_reason === null
        ? undefined
        : { reason: row.cancel_reason, at: new Date(row.cancel_requested_at ?? row.updated_at) },
    lease:
      row.lease_owner === null ? undefined : { owner: row.lease_owner, expiresAt: new Date(row.lease_expires_at ?? 0) },
  };
}
