/**
 * The job journal in PostgreSQL, for several host replicas sharing one
 * journal: each replica's tracker claims the jobs it follows through their
 * leases, so exactly one replica follows each job, and a replica that dies
 * leaves its jobs to the others once its leases expire.
 *
 * The same rules as the SQLite journal (journal.ts), kept the PostgreSQL way:
 * - every write about a job locks its row (`SELECT … FOR UPDATE`) and checks
 *   the lease holder in the same transaction (fencing);
 * - a claim is one conditional UPDATE, so two replicas claiming one job at
 *   once cannot both win;
 * - lease times are the server's clock (`clock_timestamp()`), not each
 *   replica's, so replicas whose clocks disagree still agree on expiry;
 * - creating the tables is serialised by an advisory lock, so replicas that
 *   start together do not race each other's schema creation.
 *
 * Tables: `flotilla_jobs`, `flotilla_job_transitions`, `flotilla_job_log`
 * (log lines in chunks, log-chunk.ts), `flotilla_journal_schema`, in the
 * connection's search path (a schema of their own: `options=-c search_path=…`
 * in the connection string).
 */
import { randomUUID } from "node:crypto";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FailedPreconditionError, JobHandleSchema, JobSpecSchema } from "@flotilla/protocol";
import pg from "pg";
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

/** The schema version this code reads and writes. */
export const POSTGRES_JOURNAL_SCHEMA_VERSION = 1;

/** Key of the advisory lock that serialises schema creation ("flotilla" in ASCII, as a number). */
const SCHEMA_LOCK = 0x666c6f74696c6c61n;

/** Options of {@link PostgresJournal.open}. */
export interface PostgresJournalOptions {
  /** The clock leases and timestamps are read from; default the server's (tests pass their own). */
  readonly now?: () => number;
  /** How the journal names itself in messages; default the connection's host, port and database. */
  readonly location?: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS flotilla_journal_schema (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS flotilla_jobs (
  key BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  provider TEXT NOT NULL,
  idempotency_key TEXT NOT NULL UNIQUE,
  spec BYTEA NOT NULL,
  spec_digest TEXT NOT NULL,
  handle_provider TEXT,
  handle_job_id TEXT,
  state TEXT NOT NULL,
  finished BOOLEAN NOT NULL DEFAULT FALSE,
  exit_code INTEGER,
  provider_exit_code INTEGER,
  reason TEXT NOT NULL DEFAULT '',
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL,
  finished_at TIMESTAMPTZ,
  log_lines BIGINT NOT NULL DEFAULT 0,
  log_cursor TEXT NOT NULL DEFAULT '',
  cancel_reason TEXT,
  cancel_requested_at TIMESTAMPTZ,
  lease_owner TEXT,
  lease_expires_at TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS flotilla_jobs_by_handle ON flotilla_jobs (provider, handle_job_id) WHERE handle_job_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS flotilla_jobs_by_finished ON flotilla_jobs (finished, created_at);
CREATE INDEX IF NOT EXISTS flotilla_jobs_by_owner ON flotilla_jobs (lease_owner) WHERE lease_owner IS NOT NULL;
CREATE TABLE IF NOT EXISTS flotilla_job_transitions (
  job BIGINT NOT NULL REFERENCES flotilla_jobs (key) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  at TIMESTAMPTZ NOT NULL,
  state TEXT NOT NULL,
  reason TEXT NOT NULL,
  exit_code INTEGER,
  PRIMARY KEY (job, seq)
);
CREATE TABLE IF NOT EXISTS flotilla_job_log (
  job BIGINT NOT NULL REFERENCES flotilla_jobs (key) ON DELETE CASCADE,
  first_seq BIGINT NOT NULL,
  last_seq BIGINT NOT NULL,
  at TIMESTAMPTZ NOT NULL,
  lines TEXT NOT NULL,
  PRIMARY KEY (job, first_seq)
);
`;

interface JobRow {
  key: string;
  id: string;
  provider: string;
  idempotency_key: string;
  spec: Buffer;
  spec_digest: string;
  handle_provider: string | null;
  handle_job_id: string | null;
  state: string;
  finished: boolean;
  exit_code: number | null;
  provider_exit_code: number | null;
  reason: string;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
  log_lines: string;
  log_cursor: string;
  cancel_reason: string | null;
  cancel_requested_at: Date | null;
  lease_owner: string | null;
  lease_expires_at: Date | null;
}

type Queryable = Pick<pg.PoolClient, "query">;

/** The job journal in a PostgreSQL database; see the file comment. */
export class PostgresJournal implements JobJournal {
  readonly location: string;
  readonly #pool: pg.Pool;
  readonly #now: (() => number) | undefined;

  private constructor(location: string, pool: pg.Pool, now: (() => number) | undefined) {
    this.location = location;
    this.#pool = pool;
    this.#now = now;
  }

  /**
   * Connects (a pool; `connection` as `pg` takes it: a connection string or a PoolConfig) and creates the
   * tables when missing. A database whose journal a newer Flotilla wrote is refused, not changed.
   */
  static async open(
    connection: string | pg.PoolConfig,
    options: PostgresJournalOptions = {},
  ): Promise<PostgresJournal> {
    const config = typeof connection === "string" ? { connectionString: connection } : connection;
    const pool = new pg.Pool(config);
    // An idle connection that breaks (the server restarted) must not end the host: the next query reconnects.
    pool.on("error", () => {});
    const location = options.location ?? describePostgres(connection);
    try {
      await inTransaction(pool, async (client) => {
        await client.query("SELECT pg_advisory_xact_lock($1)", [SCHEMA_LOCK.toString()]);
        await client.query(SCHEMA);
        const { rows } = await client.query<{ version: number }>("SELECT version FROM flotilla_journal_schema");
        const version = rows[0]?.version;
        if (version === undefined) {
          await client.query("INSERT INTO flotilla_journal_schema (version) VALUES ($1)", [
            POSTGRES_JOURNAL_SCHEMA_VERSION,
          ]);
        } else if (version > POSTGRES_JOURNAL_SCHEMA_VERSION) {
          throw new FailedPreconditionError(
            `job journal ${location} has schema version ${version}, newer than this Flotilla knows (${POSTGRES_JOURNAL_SCHEMA_VERSION}); use the Flotilla that wrote it, or point the journal elsewhere`,
          );
        }
      });
    } catch (error) {
      await pool.end();
      throw error;
    }
    return new PostgresJournal(location, pool, options.now);
  }

  async record(job: NewJournalJob, owner: string, leaseMs: number): Promise<{ job: JournalJob; created: boolean }> {
    const key = job.spec.idempotencyKey;
    if (key === "") throw new RangeError("journal: a job is recorded with an idempotency key; the spec has none");
    const digest = specDigest(job.spec);
    const result = await inTransaction(this.#pool, async (client) => {
      const inserted = await client.query<JobRow>(
        `INSERT INTO flotilla_jobs (id, provider, idempotency_key, spec, spec_digest, state, created_at, updated_at, lease_owner, lease_expires_at)
         VALUES ($1, $2, $3, $4, $5, 'dispatching', ${nowAt(6)}, ${nowAt(6)}, $7, ${nowAt(6)} + $8 * interval '1 millisecond')
         ON CONFLICT (idempotency_key) DO NOTHING RETURNING *`,
        [
          randomUUID(),
          job.provider,
          key,
          Buffer.from(toBinary(JobSpecSchema, job.spec)),
          digest,
          this.#time(),
          owner,
          leaseMs,
        ],
      );
      const row = inserted.rows[0];
      if (row) {
        await this.#transition(client, row.key, "dispatching", "", null);
        return { row, created: true };
      }
      const existing = await client.query<JobRow>("SELECT * FROM flotilla_jobs WHERE idempotency_key = $1", [key]);
      return { row: existing.rows[0] as JobRow, created: false };
    });
    if (!result.created && (result.row.spec_digest !== digest || result.row.provider !== job.provider)) {
      throw idempotencyConflict(key, result.row.id, result.row.provider);
    }
    return { job: toJob(result.row), created: result.created };
  }

  async get(id: string): Promise<JournalJob | undefined> {
    return this.#one("SELECT * FROM flotilla_jobs WHERE id = $1", [id]);
  }

  async findByHandle(ref: JobRef): Promise<JournalJob | undefined> {
    // Not unique: a provider may issue a job id again (one that numbers its jobs from 1 each time it starts).
    return this.#one(
      "SELECT * FROM flotilla_jobs WHERE provider = $1 AND handle_job_id = $2 ORDER BY created_at DESC, key DESC LIMIT 1",
      [ref.provider, ref.jobId],
    );
  }

  async findByKey(idempotencyKey: string): Promise<JournalJob | undefined> {
    return this.#one("SELECT * FROM flotilla_jobs WHERE idempotency_key = $1", [idempotencyKey]);
  }

  async list(query: JournalQuery = {}): Promise<JournalJob[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.unfinished) where.push("NOT finished");
    if (query.provider !== undefined) {
      params.push(query.provider);
      where.push(`provider = $${params.length}`);
    }
    params.push(query.limit ?? 100);
    const { rows } = await this.#pool.query<JobRow>(
      `SELECT * FROM flotilla_jobs ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at DESC, key DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(toJob);
  }

  async claim(id: string, owner: string, leaseMs: number, replacing?: string): Promise<JournalJob | undefined> {
    const { rows } = await this.#pool.query<JobRow>(
      `UPDATE flotilla_jobs SET lease_owner = $3, lease_expires_at = ${nowAt(1)} + $4 * interval '1 millisecond'
       WHERE id = $2 AND NOT finished
         AND (lease_owner IS NULL OR lease_owner = $3 OR lease_expires_at <= ${nowAt(1)} OR lease_owner = $5)
       RETURNING *`,
      [this.#time(), id, owner, leaseMs, replacing ?? null],
    );
    return rows[0] && toJob(rows[0]);
  }

  async heartbeat(owner: string, leaseMs: number): Promise<HeldJob[]> {
    const { rows } = await this.#pool.query<{ id: string; cancel_reason: string | null }>(
      `UPDATE flotilla_jobs SET lease_expires_at = ${nowAt(1)} + $2 * interval '1 millisecond'
       WHERE lease_owner = $3 RETURNING id, cancel_reason`,
      [this.#time(), leaseMs, owner],
    );
    return rows.map((row) => ({ id: row.id, cancelReason: row.cancel_reason ?? undefined }));
  }

  async release(id: string, owner: string): Promise<void> {
    await this.#pool.query(
      "UPDATE flotilla_jobs SET lease_owner = NULL, lease_expires_at = NULL WHERE id = $1 AND lease_owner = $2",
      [id, owner],
    );
  }

  async setHandle(id: string, owner: string, handle: { provider: string; jobId: string }): Promise<void> {
    const now = this.#time();
    await inTransaction(this.#pool, async (client) => {
      const row = await owned(client, id, owner);
      await client.query(
        `UPDATE flotilla_jobs SET handle_provider = $1, handle_job_id = $2, updated_at = COALESCE($3::timestamptz, clock_timestamp()) WHERE key = $4`,
        [handle.provider, handle.jobId, now, row.key],
      );
      if (row.state === "dispatching") await this.#changeState(client, row, now, "pending", "", undefined);
    });
  }

  async setState(
    id: string,
    owner: string,
    change: { state: JournalState; reason: string; providerExitCode?: number | undefined },
  ): Promise<void> {
    const now = this.#time();
    await inTransaction(this.#pool, async (client) => {
      const row = await owned(client, id, owner);
      await this.#changeState(client, row, now, change.state, change.reason, change.providerExitCode);
    });
  }

  /** Stores the lines as one chunk (log-chunk.ts). */
  async appendLog(id: string, owner: string, lines: readonly NewJournalLogLine[], cursor: string): Promise<void> {
    const now = this.#time();
    const encoded = encodeChunk(lines);
    await inTransaction(this.#pool, async (client) => {
      const row = await owned(client, id, owner);
      const first = Number(row.log_lines) + 1;
      const last = Number(row.log_lines) + lines.length;
      if (lines.length > 0) {
        await client.query(
          `INSERT INTO flotilla_job_log (job, first_seq, last_seq, at, lines) VALUES ($1, $2, $3, COALESCE($4::timestamptz, clock_timestamp()), $5)`,
          [row.key, first, last, now, encoded],
        );
      }
      await client.query("UPDATE flotilla_jobs SET log_lines = $1, log_cursor = $2 WHERE key = $3", [
        last,
        cursor,
        row.key,
      ]);
    });
  }

  async finish(id: string, owner: string, outcome: JournalOutcome): Promise<void> {
    const now = this.#time();
    await inTransaction(this.#pool, async (client) => {
      const row = await owned(client, id, owner);
      await this.#changeState(client, row, now, outcome.state, outcome.reason, outcome.providerExitCode ?? undefined);
      await client.query(
        `UPDATE flotilla_jobs SET finished = TRUE, finished_at = COALESCE($1::timestamptz, clock_timestamp()),
           updated_at = COALESCE($1::timestamptz, clock_timestamp()), exit_code = $2, reason = $3,
           provider_exit_code = COALESCE($4, provider_exit_code), lease_owner = NULL, lease_expires_at = NULL
         WHERE key = $5`,
        [now, outcome.exitCode ?? null, outcome.reason, outcome.providerExitCode ?? null, row.key],
      );
    });
  }

  async readLog(id: string, afterSeq: number, limit: number): Promise<JournalLogLine[]> {
    // The chunk holding line afterSeq + 1 and the ones after it (index seeks), a few at a time, until `limit` lines.
    const { rows } = await this.#pool.query<{ first_seq: string; at: Date; lines: string }>(
      `SELECT l.first_seq, l.at, l.lines FROM flotilla_job_log l JOIN flotilla_jobs j ON j.key = l.job
       WHERE j.id = $1 AND l.last_seq > $2 ORDER BY l.first_seq LIMIT $3`,
      [id, afterSeq, Math.max(1, Math.ceil(limit / 64))],
    );
    const out: JournalLogLine[] = [];
    for (const chunk of rows) {
      decodeChunk(chunk.lines, Number(chunk.first_seq), chunk.at, afterSeq, limit, out);
      if (out.length >= limit) return out;
    }
    // Chunks hold up to a batch of lines each: ask again from where this read ended when it fell short.
    if (rows.length > 0 && out.length > 0 && out.length < limit) {
      const more = await this.readLog(id, (out.at(-1) as JournalLogLine).seq, limit - out.length);
      out.push(...more);
    }
    return out;
  }

  async transitions(id: string): Promise<JournalTransition[]> {
    const { rows } = await this.#pool.query<{ at: Date; state: string; reason: string; exit_code: number | null }>(
      `SELECT t.at, t.state, t.reason, t.exit_code FROM flotilla_job_transitions t JOIN flotilla_jobs j ON j.key = t.job
       WHERE j.id = $1 ORDER BY t.seq`,
      [id],
    );
    return rows.map((row) => ({
      at: row.at,
      state: row.state as JournalState,
      reason: row.reason,
      exitCode: row.exit_code ?? undefined,
    }));
  }

  async requestCancel(id: string, reason: string): Promise<JournalJob | undefined> {
    await this.#pool.query(
      `UPDATE flotilla_jobs SET cancel_reason = $1, cancel_requested_at = COALESCE($2::timestamptz, clock_timestamp())
       WHERE id = $3 AND NOT finished AND cancel_reason IS NULL`,
      [reason, this.#time(), id],
    );
    return this.get(id);
  }

  async prune(keepFinished: number): Promise<number> {
    const result = await this.#pool.query(
      `DELETE FROM flotilla_jobs WHERE finished AND key NOT IN
         (SELECT key FROM flotilla_jobs WHERE finished ORDER BY finished_at DESC, key DESC LIMIT $1)`,
      [keepFinished],
    );
    return result.rowCount ?? 0;
  }

  async close(): Promise<void> {
    if (!this.#pool.ended) await this.#pool.end();
  }

  /** The injected clock's time, or null for the server's. */
  #time(): Date | null {
    return this.#now ? new Date(this.#now()) : null;
  }

  async #one(sql: string, params: unknown[]): Promise<JournalJob | undefined> {
    const { rows } = await this.#pool.query<JobRow>(sql, params);
    return rows[0] && toJob(rows[0]);
  }

  async #changeState(
    client: Queryable,
    row: JobRow,
    now: Date | null,
    state: JournalState,
    reason: string,
    providerExitCode: number | undefined,
  ): Promise<void> {
    if (row.state === state && row.reason === reason) return;
    // A final state is not left: a late, stale status (polled before the job ended) does not undo it.
    if (isFinalState(row.state as JournalState) && !isFinalState(state)) return;
    await client.query(
      `UPDATE flotilla_jobs SET state = $1, reason = $2, provider_exit_code = COALESCE($3, provider_exit_code),
         updated_at = COALESCE($4::timestamptz, clock_timestamp()) WHERE key = $5`,
      [state, reason, providerExitCode ?? null, now, row.key],
    );
    await this.#transition(client, row.key, state, reason, providerExitCode ?? null, now);
    row.state = state;
    row.reason = reason;
  }

  async #transition(
    client: Queryable,
    job: string,
    state: JournalState,
    reason: string,
    exitCode: number | null,
    now: Date | null = this.#time(),
  ): Promise<void> {
    await client.query(
      `INSERT INTO flotilla_job_transitions (job, seq, at, state, reason, exit_code)
       VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM flotilla_job_transitions WHERE job = $1),
               COALESCE($2::timestamptz, clock_timestamp()), $3, $4, $5)`,
      [job, now, state, reason, exitCode],
    );
  }
}

/** The time in a statement: the injected clock's (the statement's parameter `param`, when not null) or the server's. */
function nowAt(param: number): string {
  return `COALESCE($${param}::timestamptz, clock_timestamp())`;
}

/** Runs `work` in a transaction on one pooled connection. */
async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** The job's row, locked for this transaction, when `owner` holds its lease; else LeaseLostError. */
async function owned(client: Queryable, id: string, owner: string): Promise<JobRow> {
  const { rows } = await client.query<JobRow>("SELECT * FROM flotilla_jobs WHERE id = $1 FOR UPDATE", [id]);
  const row = rows[0];
  if (!row) throw new RangeError(`journal: no job ${id}`);
  if (row.lease_owner !== owner) throw new LeaseLostError(id, owner);
  return row;
}

/**
 * How a journal's database is named in messages and `location`: user, host and database, never the
 * password (a connection string may carry one).
 */
export function describePostgres(connection: string | pg.PoolConfig): string {
  const options = typeof connection === "string" ? { connectionString: connection } : connection;
  if (options.connectionString) {
    try {
      const url = new URL(options.connectionString);
      const user = url.username ? `${decodeURIComponent(url.username)}@` : "";
      return `postgresql://${user}${url.host}${url.pathname}`; // never the password
    } catch {
      return "PostgreSQL";
    }
  }
  const user = options.user ? `${options.user}@` : "";
  return `postgresql://${user}${options.host ?? "localhost"}:${options.port ?? 5432}/${options.database ?? ""}`;
}

function toJob(row: JobRow): JournalJob {
  return {
    id: row.id,
    provider: row.provider,
    idempotencyKey: row.idempotency_key,
    spec: fromBinary(JobSpecSchema, new Uint8Array(row.spec)),
    specDigest: row.spec_digest,
    handle:
      row.handle_job_id === null
        ? undefined
        : create(JobHandleSchema, { provider: row.handle_provider ?? row.provider, jobId: row.handle_job_id }),
    state: row.state as JournalState,
    finished: row.finished,
    exitCode: row.exit_code ?? undefined,
    providerExitCode: row.provider_exit_code ?? undefined,
    reason: row.reason,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at ?? undefined,
    log: { lines: Number(row.log_lines), cursor: row.log_cursor },
    cancelRequest:
      row.cancel_reason === null
        ? undefined
        : { reason: row.cancel_reason, at: row.cancel_requested_at ?? row.updated_at },
    lease:
      row.lease_owner === null ? undefined : { owner: row.lease_owner, expiresAt: row.lease_expires_at ?? new Date(0) },
  };
}
