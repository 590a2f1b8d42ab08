/**
 * The job journal: what a host records about every job it dispatches, so a
 * host that dies and starts again finds its jobs and follows them on, and
 * any process on the machine (the CLI, a daemon) can answer for them.
 *
 * This file is the interface; `sqlite-journal.ts` is the embedded
 * implementation. Every method is asynchronous so that an implementation
 * over a database server (several host replicas sharing one journal) fits
 * the same shape.
 *
 * The rules every implementation keeps:
 * - A job is recorded before its provider is called (`record`), with its
 *   idempotency key, and its spec and the spec's digest; the key is unique:
 *   recording it again returns the job already recorded (same digest) or
 *   fails (another spec), so a retried submission never becomes two jobs.
 * - One process follows a job at a time: the one holding its lease
 *   (`claim`, `heartbeat`, `release`). Every write about a job names the
 *   owner and fails with {@link LeaseLostError} when another owner holds the
 *   lease: a follower that stalled past its lease and was replaced cannot
 *   write over its successor (fencing).
 * - Log lines and the provider cursor after them are written in one
 *   transaction (`appendLog`): a follower that dies between two writes
 *   resumes after the last line stored, so no line is stored twice or lost.
 */
import { AlreadyExistsError, type JobHandle, type JobSpec } from "@flotilla/protocol";

/**
 * Where a job is: `dispatching` from the moment it is recorded until the
 * provider answered RunJob with a handle; then the provider's states.
 */
export type JournalState = "dispatching" | "pending" | "running" | "succeeded" | "failed" | "cancelled" | "unknown";

/** The states a job does not leave. */
export const FINAL_JOURNAL_STATES: ReadonlySet<JournalState> = new Set(["succeeded", "failed", "cancelled", "unknown"]);

/** Which output a stored log line came from. */
export type JournalLogStream = "stdout" | "stderr" | "system";

/** A job as the journal knows it. */
export interface JournalJob {
  /** The journal's own id of the job (a UUID); known before the provider is called. */
  readonly id: string;
  /** The provider's name, as the host configured it (e.g. "local", "aws"). */
  readonly provider: string;
  /** The key sent with RunJob: a re-dispatch with it finds the job the first call started. */
  readonly idempotencyKey: string;
  /** The JobSpec sent (secret_env holds references, never values). */
  readonly spec: JobSpec;
  /** SHA-256 (hex) of the spec's canonical JSON: tells a retried submission from a different job under the same key. */
  readonly specDigest: string;
  /** The provider's handle, once RunJob answered. */
  readonly handle: JobHandle | undefined;
  /** Where the job is now, as last seen. */
  readonly state: JournalState;
  /**
   * True once following the job has ended: its final state, exit code and log are all recorded. A job can be
   * in a final state and not yet finished while the end of its log is still being read.
   */
  readonly finished: boolean;
  /**
   * The job's exit code as its run ended (the rule of `jobOutcome` in @flotilla/exec: a job that did not succeed
   * never ends with 0); undefined until finished, and for a job that could not be dispatched.
   */
  readonly exitCode: number | undefined;
  /** The exit code the provider reported for the job's process, where it did. */
  readonly providerExitCode: number | undefined;
  /** Why the job is where it is (the provider's reason, or why it could not be dispatched); "" when nothing to say. */
  readonly reason: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** When following it ended. */
  readonly finishedAt: Date | undefined;
  /** The job's log as stored: how many lines, and the provider cursor just after the last one. */
  readonly log: { readonly lines: number; readonly cursor: string };
  /** A cancel someone asked for (`requestCancel`), which the follower carries out. */
  readonly cancelRequest: { readonly reason: string; readonly at: Date } | undefined;
  /** Who follows the job, until when (absent: nobody). */
  readonly lease: { readonly owner: string; readonly expiresAt: Date } | undefined;
}

/** What {@link JobJournal.record} stores about a new job. */
export interface NewJournalJob {
  /** The provider's name, as the host configured it. */
  readonly provider: string;
  /** The JobSpec to send; its idempotency_key must be set. */
  readonly spec: JobSpec;
}

/** One stored log line (or piece of an over-long line). */
export interface JournalLogLine {
  /** Its position in the job's log, from 1; a reader resumes after the last seq it got. */
  readonly seq: number;
  readonly stream: JournalLogStream;
  readonly text: string;
  /** A piece of a longer line that goes on in the next line of the same stream. */
  readonly continues: boolean;
  /** When it was stored. */
  readonly time: Date;
}

/** A log line to store (the journal numbers it and stamps it with the time it was stored). */
export type NewJournalLogLine = Omit<JournalLogLine, "seq" | "time">;

/** One state change of a job. */
export interface JournalTransition {
  readonly at: Date;
  readonly state: JournalState;
  readonly reason: string;
  readonly exitCode: number | undefined;
}

/** How a job's run ended, as {@link JobJournal.finish} records it. */
export interface JournalOutcome {
  readonly state: JournalState;
  /** The run's exit code; undefined for a job that could not be dispatched. */
  readonly exitCode: number | undefined;
  readonly providerExitCode?: number | undefined;
  readonly reason: string;
}

/** A job whose lease an owner still holds, with the cancel asked for it if any ({@link JobJournal.heartbeat}). */
export interface HeldJob {
  readonly id: string;
  readonly cancelReason: string | undefined;
}

/** Which jobs {@link JobJournal.list} returns, newest first. */
export interface JournalQuery {
  /** Only jobs not finished yet (the ones a restarted host resumes). */
  readonly unfinished?: boolean;
  /** Only this provider's jobs. */
  readonly provider?: string;
  /** At most this many; default 100. */
  readonly limit?: number;
}

/** A job's handle as a person or a client names it: the provider's name (as configured) and the provider's job id. */
export interface JobRef {
  readonly provider: string;
  readonly jobId: string;
}

/** The journal's storage. See the file comment for the rules each implementation keeps. */
export interface JobJournal {
  /** Where the journal is, for messages ("/home/me/.local/state/flotilla/journal.db"). */
  readonly location: string;
  /**
   * Records a job before its provider is called, leased to `owner` for `leaseMs`. When the spec's idempotency
   * key is recorded already: with the same spec digest, returns that job (`created: false`, its lease
   * untouched); with another, fails with AlreadyExistsError naming the key.
   */
  record(job: NewJournalJob, owner: string, leaseMs: number): Promise<{ job: JournalJob; created: boolean }>;
  /** The job with this journal id. */
  get(id: string): Promise<JournalJob | undefined>;
  /** The job with this handle (provider as configured, the provider's job id); the newest, should the provider have issued the id twice. */
  findByHandle(ref: JobRef): Promise<JournalJob | undefined>;
  /** The job recorded under this idempotency key. */
  findByKey(idempotencyKey: string): Promise<JournalJob | undefined>;
  /** Jobs, newest first. */
  list(query?: JournalQuery): Promise<JournalJob[]>;
  /**
   * Takes the job's lease for `owner` when nobody holds it, its lease expired, `owner` holds it already, or
   * its holder is `replacing` (an owner the caller knows to be dead). Returns the job, or undefined when
   * another owner holds it (or the job is unknown or finished).
   */
  claim(id: string, owner: string, leaseMs: number, replacing?: string): Promise<JournalJob | undefined>;
  /** Extends every lease `owner` holds by `leaseMs`; returns those jobs, each with the cancel asked for it. */
  heartbeat(owner: string, leaseMs: number): Promise<HeldJob[]>;
  /** Gives the job's lease up (nothing happens when `owner` does not hold it). */
  release(id: string, owner: string): Promise<void>;
  /** Records the handle RunJob returned; the state becomes `pending` unless the provider said more already. */
  setHandle(id: string, owner: string, handle: Pick<JobHandle, "provider" | "jobId">): Promise<void>;
  /** Records the job's state (a transition when it changed). */
  setState(
    id: string,
    owner: string,
    change: { state: JournalState; reason: string; providerExitCode?: number | undefined },
  ): Promise<void>;
  /** Stores log lines and the provider cursor after the last of them, in one transaction. */
  appendLog(id: string, owner: string, lines: readonly NewJournalLogLine[], cursor: string): Promise<void>;
  /** Records how the job's run ended and lets its lease go: the job is finished. */
  finish(id: string, owner: string, outcome: JournalOutcome): Promise<void>;
  /** Up to `limit` stored lines after line `afterSeq` (0: from the start). */
  readLog(id: string, afterSeq: number, limit: number): Promise<JournalLogLine[]>;
  /** The job's state changes, oldest first. */
  transitions(id: string): Promise<JournalTransition[]>;
  /** Asks the job's follower to cancel it (anyone may ask); the job as it is then, or undefined when unknown. */
  requestCancel(id: string, reason: string): Promise<JournalJob | undefined>;
  /** Deletes the oldest finished jobs (with their logs) beyond the newest `keepFinished`; returns how many went. */
  prune(keepFinished: number): Promise<number>;
  /** Closes the storage. */
  close(): Promise<void>;
}

/** A write about a job by an owner that does not hold its lease (any more): someone else follows the job now. */
export class LeaseLostError extends Error {
  constructor(
    readonly jobId: string,
    readonly owner: string,
  ) {
    super(`job ${jobId}: ${owner} no longer holds its lease in the journal; another follower took it over`);
    this.name = "LeaseLostError";
  }
}

/** The error of a journal asked to record another spec under an idempotency key it has. */
export function idempotencyConflict(key: string, jobId: string, provider: string): AlreadyExistsError {
  return new AlreadyExistsError(
    `idempotency key ${JSON.stringify(key)} belongs to job ${jobId} (provider "${provider}"), recorded with a different spec; use a new key for a different job, or resubmit the same spec to get that job`,
  );
}

/** True for a state the job does not leave. */
export function isFinalState(state: JournalState): boolean {
  return FINAL_JOURNAL_STATES.has(state);
}
