/**
 * The job tracker: dispatches jobs through the journal and follows them to
 * their end, so that a host killed at any point and started again picks its
 * jobs up where it left them, and never starts one twice.
 *
 * - `submit` records the job (with its idempotency key) before the
 *   provider is called, then dispatches and follows it with exec's
 *   ProviderRunner: the handle, every state change, every log line (with
 *   the provider's cursor) and the outcome (exec's `jobOutcome` rule) go to
 *   the journal as they happen.
 * - `resume` finds the jobs nobody follows any more (their follower's lease
 *   expired, or its process on this machine is gone) and follows each on:
 *   a job without a handle is dispatched again with its idempotency key,
 *   which makes the provider return the job the first RunJob started (if
 *   it did) instead of starting another; a job with a handle is followed
 *   from the log cursor the journal kept.
 * - A cancel asked through the journal (`requestCancel`, by any process)
 *   reaches the job's follower at its next heartbeat, which renews its
 *   leases too; `close` stops following without cancelling anything.
 */
import { randomUUID } from "node:crypto";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { durationMs } from "@bufbuild/protobuf/wkt";
import {
  type LogLine,
  type ProviderJobRunner,
  ProviderRunner,
  type ProviderRunnerOptions,
  type ProviderRunRequest,
  type ProviderRunResult,
  RunDetachedError,
} from "@flotilla/exec";
import { isFlotillaError, type JobHandle, JobSpecSchema, JobState, LogStream, NotFoundError } from "@flotilla/protocol";
import {
  isFinalState,
  type JobJournal,
  type JournalJob,
  type JournalOutcome,
  type JournalState,
  LeaseLostError,
} from "./journal.js";
import { JournalLogWriter, type LogBatchLimits } from "./journal-log-writer.js";
import { isLeaseOwnerGone, newLeaseOwner } from "./lease-owner.js";

/** Where a provider's IaCProviderRunner client comes from: a loaded plugin, or one started on demand. */
export type RunnerSource = (provider: string) => ProviderJobRunner | Promise<ProviderJobRunner>;

/** How long `refresh` gives its provider's JobStatus call. */
const REFRESH_TIMEOUT_MS = 60_000;

/** How long a follower's lease lasts unless renewed. */
export const DEFAULT_LEASE_MS = 30_000;

/** Options of a {@link JobTracker}. */
export interface JobTrackerOptions {
  /** Where jobs are recorded. */
  readonly journal: JobJournal;
  /** The provider clients jobs are dispatched to and followed through. */
  readonly runners: RunnerSource;
  /** This tracker's name in the journal's leases; default host name, pid and a random part ({@link newLeaseOwner}). */
  readonly owner?: string;
  /** How long a lease lasts unless renewed; default {@link DEFAULT_LEASE_MS}. */
  readonly leaseMs?: number;
  /** How often leases are renewed and cancel requests looked for; default the smaller of 1 s and a third of the lease. */
  readonly heartbeatMs?: number;
  /** Options of the ProviderRunner that follows each provider's jobs (poll interval, retries, stop and drain waits). */
  readonly runner?: Omit<ProviderRunnerOptions, "providerName" | "runner">;
  /** How log lines are batched into the journal. */
  readonly logBatch?: LogBatchLimits;
  /** Whether a lease holder is dead, so its jobs can be taken over before its lease expires; default {@link isLeaseOwnerGone}. */
  readonly isOwnerGone?: (owner: string) => boolean;
}

/** A job to dispatch. */
export interface JobSubmission {
  /** The provider's name, as the host configured it. */
  readonly provider: string;
  /** The JobSpec. Without an idempotency key, the tracker makes one up (a UUID), recorded with the job. */
  readonly spec: MessageInitShape<typeof JobSpecSchema>;
}

/** What a caller hears about a job it follows, besides the journal. */
export interface JobObserver {
  /**
   * Each log line as it arrives, pieces of over-long lines as the provider sent them (`continues`). A returned
   * promise holds the next line back until it settles (backpressure, as ProviderRunOptions.onLog).
   */
  readonly onLog?: (line: LogLine) => unknown;
  /** Each state the job reaches. */
  readonly onState?: (state: JournalState, reason: string) => void;
}

/** How following a job ended. */
export interface FollowEnd {
  /** The job as the journal has it now. */
  readonly job: JournalJob;
  /** The run's result, when the job was followed to its end. */
  readonly result?: ProviderRunResult;
  /**
   * Why following stopped before the end, when it did: the job was handed over (`close`, a lost lease) or
   * could not be dispatched or followed. A job the provider refused is finished as `failed` with this reason;
   * after an error that may pass (the provider unavailable), the job stays unfinished for a later `resume`.
   */
  readonly error?: unknown;
}

/** A job this tracker follows. */
export interface TrackedJob {
  /** The job's journal id. */
  readonly id: string;
  /** The job as recorded when following started. */
  readonly job: JournalJob;
  /** False when the job was recorded already and another live follower has it (see the journal). */
  readonly following: boolean;
  /** True when this call recorded the job; false when its idempotency key found it recorded already. */
  readonly recordedHere: boolean;
  /** Resolves with the provider's handle once it is in the journal; rejects when following ends without one. */
  readonly handle: Promise<JobHandle>;
  /** Settles when following ends: the job finished, or was handed over. */
  readonly done: Promise<FollowEnd>;
}

interface Follow {
  readonly tracked: TrackedJob;
  /** Carries out a cancel asked for the job, with the reason given. */
  readonly cancel: (reason: string | undefined) => void;
  readonly detach: AbortController;
}

/** Dispatches jobs and follows them through the journal; see the file comment. */
export class JobTracker {
  /** This tracker's name in the journal's leases. */
  readonly owner: string;
  readonly #journal: JobJournal;
  readonly #runners: RunnerSource;
  readonly #leaseMs: number;
  readonly #heartbeatMs: number;
  readonly #runnerOptions: Omit<ProviderRunnerOptions, "providerName" | "runner">;
  readonly #logBatch: LogBatchLimits;
  readonly #isOwnerGone: (owner: string) => boolean;
  readonly #follows = new Map<string, Follow>();
  /** One ProviderRunner per provider: its status poller batches all of the provider's jobs into one call per tick. */
  readonly #providerRunners = new Map<string, Promise<{ client: ProviderJobRunner; runner: ProviderRunner }>>();
  #heartbeat: NodeJS.Timeout | undefined;
  #beating: Promise<void> | undefined;
  #closed = false;

  constructor(options: JobTrackerOptions) {
    this.#journal = options.journal;
    this.#runners = options.runners;
    this.owner = options.owner ?? newLeaseOwner();
    this.#leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.#heartbeatMs = options.heartbeatMs ?? Math.min(1000, Math.floor(this.#leaseMs / 3));
    this.#runnerOptions = options.runner ?? {};
    this.#logBatch = options.logBatch ?? {};
    this.#isOwnerGone = options.isOwnerGone ?? isLeaseOwnerGone;
  }

  /** The journal this tracker writes to. */
  get journal(): JobJournal {
    return this.#journal;
  }

  /**
   * Records the job, then dispatches and follows it. The same idempotency key submitted again (the same spec)
   * gives the job recorded first: followed here when nobody else follows it, never dispatched twice.
   */
  async submit(submission: JobSubmission, observer: JobObserver = {}): Promise<TrackedJob> {
    this.#checkOpen();
    const spec = create(JobSpecSchema, {
      ...submission.spec,
      idempotencyKey: submission.spec.idempotencyKey || randomUUID(),
    });
    const { job, created } = await this.#journal.record(
      { provider: submission.provider, spec },
      this.owner,
      this.#leaseMs,
    );
    if (created) return this.#follow(job, observer, true);
    const tracked = (await this.attach(job.id, observer)) ?? notFollowed(job);
    // Followed here already (this process recorded it moments ago): this call still found it, not recorded it.
    return tracked.recordedHere ? { ...tracked, recordedHere: false } : tracked;
  }

  /**
   * Follows a recorded, unfinished job here, when nobody else does (its follower's lease expired or its process
   * is gone). Undefined when the job is unknown or finished, or another live follower has it.
   */
  async attach(id: string, observer: JobObserver = {}): Promise<TrackedJob | undefined> {
    this.#checkOpen();
    const followed = this.#follows.get(id);
    if (followed) return followed.tracked;
    const job = await this.#journal.get(id);
    if (!job || job.finished) return undefined;
    const claimed = await this.#claim(job);
    return claimed && this.#follow(claimed, observer, false);
  }

  /** Follows on every unfinished job nobody follows any more (see the file comment); returns those it took. */
  async resume(): Promise<TrackedJob[]> {
    this.#checkOpen();
    const taken: TrackedJob[] = [];
    for (const job of await this.#journal.list({ unfinished: true, limit: 10_000 })) {
      if (this.#follows.has(job.id)) continue;
      const claimed = await this.#claim(job);
      if (claimed) taken.push(this.#follow(claimed, {}, false));
    }
    return taken;
  }

  /**
   * Brings a job nobody follows up to date without following it: its status (one JobStatus call), and, with
   * `logs`, the log lines its provider has after the saved cursor. A job the provider reports ended is followed
   * to its end (the rest of its log read, its outcome recorded). Returns the job as the journal has it then;
   * a job another live follower has (its journal entry is current), or one not dispatched yet, is left as it is.
   */
  async refresh(id: string, options: { logs?: boolean } = {}): Promise<JournalJob | undefined> {
    this.#checkOpen();
    const followed = this.#follows.get(id);
    if (followed) return this.#journal.get(id);
    const job = await this.#journal.get(id);
    if (!job || job.finished || !job.handle) return job;
    const claimed = await this.#claim(job);
    if (!claimed?.handle) return job;
    const handle = claimed.handle;
    const writer = new JournalLogWriter(this.#journal, id, this.owner, claimed.log.cursor, this.#logBatch, () => {});
    let ended = false;
    try {
      const { client } = await this.#providerRunner(job.provider);
      const { status } = await client.jobStatus({ handle }, { signal: AbortSignal.timeout(REFRESH_TIMEOUT_MS) });
      const state = status && journalStateOf(status.state);
      if (status && state) {
        await writer.write(() =>
          this.#journal.setState(id, this.owner, { state, reason: status.reason, providerExitCode: status.exitCode }),
        );
        ended = isFinalState(state);
      }
      if (options.logs && !ended) {
        // No deadline: a long log takes as long as it takes; the stream ends at the log's current end.
        for await (const response of client.jobLogs({ handle, follow: false, cursor: claimed.log.cursor })) {
          for (const line of response.lines) {
            const stream =
              line.stream === LogStream.STDERR ? "stderr" : line.stream === LogStream.SYSTEM ? "system" : "stdout";
            const full = writer.log({
              stream,
              text: line.text,
              ...(line.continues ? { continues: true as const } : {}),
              ...(line.cursor ? { cursor: line.cursor } : {}),
            });
            if (full) await full;
          }
        }
        await writer.flush();
      }
    } catch (error) {
      writer.discard();
      if (error instanceof NotFoundError) {
        // The provider no longer knows the job (its records were pruned, its cloud forgot it): nothing more will come.
        await this.#journal.finish(id, this.owner, {
          state: "unknown",
          exitCode: undefined,
          reason: `provider "${job.provider}" no longer knows job ${handle.jobId}: ${error.message}`,
        });
        return this.#journal.get(id);
      }
      await this.#journal.release(id, this.owner).catch(() => {});
      if (error instanceof LeaseLostError) return this.#journal.get(id);
      throw error;
    }
    if (ended) {
      // Read the rest of its log and record how it ended, here and now.
      const tracked = this.#follow(claimed, {}, false);
      return (await tracked.done).job;
    }
    await this.#journal.release(id, this.owner);
    return this.#journal.get(id);
  }

  /** The job if this tracker follows it. */
  followed(id: string): TrackedJob | undefined {
    return this.#follows.get(id)?.tracked;
  }

  /**
   * Asks for the job to be cancelled: recorded in the journal, where its follower (this tracker or another
   * process) carries it out. Returns the job as it is now, or undefined when unknown.
   */
  async cancel(id: string, reason: string): Promise<JournalJob | undefined> {
    const job = await this.#journal.requestCancel(id, reason);
    this.#follows.get(id)?.cancel(reason);
    return job;
  }

  /**
   * Stops following every job without cancelling any: the lines received are stored, the leases let go, and
   * the jobs run on for a later `resume` (here or in another process). The journal stays open (it is the
   * caller's).
   */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    const follows = [...this.#follows.values()];
    for (const follow of follows) follow.detach.abort();
    await Promise.all(follows.map((follow) => follow.tracked.done));
    await this.#beating;
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error("job tracker: closed; make a new one to follow jobs again");
  }

  /** Claims the job's lease, taking it from a holder whose process on this machine is gone. */
  #claim(job: JournalJob): Promise<JournalJob | undefined> {
    const holder = job.lease?.owner;
    const replacing = holder !== undefined && holder !== this.owner && this.#isOwnerGone(holder) ? holder : undefined;
    return this.#journal.claim(job.id, this.owner, this.#leaseMs, replacing);
  }

  /**
   * Follows a job whose lease this tracker holds. `recordedHere`: this tracker recorded it, so no RunJob was
   * sent for it before; otherwise a job without a handle may have been dispatched by a follower that died
   * before the answer came, and a cancel waits for the re-dispatch to find it (rather than leave it running).
   */
  #follow(job: JournalJob, observer: JobObserver, recordedHere: boolean): TrackedJob {
    const cancel = new AbortController();
    const detach = new AbortController();
    const handle = deferred<JobHandle>();
    // A caller that only waits for `done` must not see the handle's rejection as unhandled.
    handle.promise.catch(() => {});
    let handleKnown = job.handle !== undefined;
    let cancelAsked = false;
    let cancelReason: string | undefined;
    const requestCancel = (reason: string | undefined): void => {
      cancelAsked = true;
      cancelReason ??= reason;
      if (recordedHere || handleKnown) cancel.abort();
    };
    if (job.handle) handle.resolve(job.handle);
    const done = this.#run(job, observer, { signal: cancel.signal, reason: () => cancelReason }, detach, handle, () => {
      handleKnown = true;
      if (cancelAsked) cancel.abort();
    });
    if (job.cancelRequest) requestCancel(job.cancelRequest.reason);
    const tracked: TrackedJob = { id: job.id, job, following: true, recordedHere, handle: handle.promise, done };
    this.#follows.set(job.id, { tracked, cancel: requestCancel, detach });
    void done.finally(() => {
      this.#follows.delete(job.id);
      handle.reject(new Error(`job ${job.id}: following it ended before the provider returned a handle`));
    });
    this.#startHeartbeat();
    return tracked;
  }

  async #run(
    job: JournalJob,
    observer: JobObserver,
    cancel: { signal: AbortSignal; reason: () => string | undefined },
    detach: AbortController,
    handle: Deferred<JobHandle>,
    onHandle: () => void,
  ): Promise<FollowEnd> {
    const journal = this.#journal;
    const owner = this.owner;
    // A write that fails (the lease went to another follower, the disk failed) stops following: nothing else may be written.
    const writer = new JournalLogWriter(journal, job.id, owner, job.log.cursor, this.#logBatch, () => detach.abort());
    let state = job.state;
    let knownHandle = job.handle;
    try {
      const { runner } = await this.#providerRunner(job.provider);
      const request = runRequestOf(job, Date.now());
      const result = await runner.run(request, {
        signal: cancel.signal,
        cancelReason: cancel.reason,
        detach: detach.signal,
        joinLines: false,
        ...(job.handle ? { resume: { handle: job.handle, logCursor: job.log.cursor } } : {}),
        onJobStarted: (started) => {
          knownHandle = started;
          onHandle();
          writer
            .write(() => journal.setHandle(job.id, owner, started))
            .then(
              () => handle.resolve(started),
              () => {},
            );
          if (state === "dispatching") {
            state = "pending";
            observer.onState?.(state, "");
          }
        },
        onStatus: (status) => {
          const next = journalStateOf(status.state);
          if (next === undefined || next === state) return;
          state = next;
          writer
            .write(() =>
              journal.setState(job.id, owner, {
                state: next,
                reason: status.reason,
                providerExitCode: status.exitCode,
              }),
            )
            .catch(() => {});
          observer.onState?.(next, status.reason);
        },
        onLog: (line) => {
          const shown = observer.onLog?.(line);
          const stored = writer.log(line);
          if (isThenable(shown)) return stored ? Promise.all([shown, stored]) : shown;
          return stored;
        },
      });
      await writer.flush();
      const outcome = outcomeOf(result);
      await writer.write(() => journal.finish(job.id, owner, outcome));
      if (state !== outcome.state) observer.onState?.(outcome.state, outcome.reason);
      return { job: await this.#current(job), result };
    } catch (error) {
      const cause = writer.failure ?? (detach.signal.reason instanceof LeaseLostError ? detach.signal.reason : error);
      if (cause instanceof LeaseLostError || writer.failure !== undefined) {
        // Another follower has the job, or the journal cannot be written: stop, write nothing more.
        writer.discard();
        return { job: await this.#current(job), error: cause };
      }
      await writer.flush().catch(() => {});
      if (error instanceof RunDetachedError || this.#closed) {
        await journal.release(job.id, owner).catch(() => {});
        return { job: await this.#current(job), error };
      }
      if (isFlotillaError(error) && error.retriable) {
        // It may pass (the provider is restarting, the network is down): a later resume tries again.
        await journal.release(job.id, owner).catch(() => {});
        return { job: await this.#current(job), error };
      }
      // The provider refused the job, or it can no longer be followed (the runner then cancelled it).
      const reason = error instanceof Error ? error.message : String(error);
      const outcome: JournalOutcome = knownHandle
        ? { state: "unknown", exitCode: undefined, reason: `could not be followed: ${reason}` }
        : { state: "failed", exitCode: undefined, reason: `could not be dispatched: ${reason}` };
      await writer.write(() => journal.finish(job.id, owner, outcome)).catch(() => {});
      observer.onState?.(outcome.state, outcome.reason);
      return { job: await this.#current(job), error };
    }
  }

  async #current(job: JournalJob): Promise<JournalJob> {
    return (await this.#journal.get(job.id)) ?? job;
  }

  #providerRunner(provider: string): Promise<{ client: ProviderJobRunner; runner: ProviderRunner }> {
    let runner = this.#providerRunners.get(provider);
    if (!runner) {
      runner = Promise.resolve(this.#runners(provider)).then((client) => ({
        client,
        runner: new ProviderRunner({ ...this.#runnerOptions, providerName: provider, runner: client }),
      }));
      // A provider that could not be reached is asked again next time.
      runner.catch(() => this.#providerRunners.delete(provider));
      this.#providerRunners.set(provider, runner);
    }
    return runner;
  }

  /** Renews this tracker's leases and carries out cancels asked through the journal, while it follows jobs. */
  #startHeartbeat(): void {
    if (this.#heartbeat) return;
    this.#heartbeat = setInterval(() => {
      if (this.#beating) return;
      this.#beating = this.#beat().finally(() => {
        this.#beating = undefined;
      });
    }, this.#heartbeatMs);
  }

  async #beat(): Promise<void> {
    if (this.#follows.size === 0) {
      clearInterval(this.#heartbeat);
      this.#heartbeat = undefined;
      return;
    }
    let held: Awaited<ReturnType<JobJournal["heartbeat"]>>;
    try {
      held = await this.#journal.heartbeat(this.owner, this.#leaseMs);
    } catch {
      return; // The journal is busy or failing: the next beat tries again, the lease has time left.
    }
    const holding = new Map(held.map((job) => [job.id, job]));
    for (const [id, follow] of this.#follows) {
      const job = holding.get(id);
      // A lease we no longer hold went to another follower: let it have the job.
      if (!job) follow.detach.abort(new LeaseLostError(id, this.owner));
      else if (job.cancelReason !== undefined) follow.cancel(job.cancelReason);
    }
  }
}

/** A TrackedJob for a job another live follower has: nothing is followed here. */
function notFollowed(job: JournalJob): TrackedJob {
  const handle = job.handle
    ? Promise.resolve(job.handle)
    : Promise.reject(new Error(`job ${job.id} is followed by ${job.lease?.owner ?? "another process"}`));
  handle.catch(() => {});
  return { id: job.id, job, following: false, recordedHere: false, handle, done: Promise.resolve({ job }) };
}

/** The ProviderRunner request that dispatches (or re-dispatches) a recorded job; the timeout left counts from its creation. */
export function runRequestOf(job: JournalJob, now: number): ProviderRunRequest {
  const spec = job.spec;
  const timeoutMs = spec.timeout ? durationMs(spec.timeout) : 0;
  return {
    jobName: spec.name,
    image: spec.image,
    command: spec.command,
    args: spec.args,
    env: spec.env,
    secretEnv: spec.secretEnv,
    labels: spec.labels,
    workingDir: spec.workingDir,
    idempotencyKey: spec.idempotencyKey,
    jobIdentity: { jobId: job.id },
    ...(timeoutMs > 0 ? { timeoutMs: Math.max(1, timeoutMs - (now - job.createdAt.getTime())) } : {}),
    ...(spec.resources ? { resources: spec.resources } : {}),
    ...(spec.target ? { target: spec.target } : {}),
  };
}

/** The journal's name for a provider's job state; undefined for UNSPECIFIED. */
export function journalStateOf(state: JobState): JournalState | undefined {
  switch (state) {
    case JobState.PENDING:
      return "pending";
    case JobState.RUNNING:
      return "running";
    case JobState.SUCCEEDED:
      return "succeeded";
    case JobState.FAILED:
      return "failed";
    case JobState.CANCELLED:
      return "cancelled";
    case JobState.UNKNOWN:
      return "unknown";
    default:
      return undefined;
  }
}

/** How a run that ended is recorded: the provider's final state, exec's exit code for it, and why. */
export function outcomeOf(result: ProviderRunResult): JournalOutcome {
  const status = result.status;
  const reason = result.message || status?.reason || "";
  if (result.reason === "timeout") {
    return { state: "failed", exitCode: result.exitCode, providerExitCode: status?.exitCode, reason };
  }
  const state = status ? (journalStateOf(status.state) ?? "unknown") : result.handle ? "unknown" : "cancelled";
  return {
    state: isFinalState(state) ? state : "unknown",
    exitCode: result.exitCode,
    providerExitCode: status?.exitCode,
    reason,
  };
}

/** A promise with its resolve and reject (Promise.withResolvers, which the es2023 library does not declare). */
interface Deferred<T> {
  readonly promise: Promise<T>;
  readonly resolve: (value: T) => void;
  readonly reject: (error: unknown) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === "function";
}
