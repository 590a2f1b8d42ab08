/**
 * The job service: what a user of a host does with jobs — run, list, status,
 * logs, cancel — over the journal and a tracker, in one place that the
 * `flotilla` CLI uses today and a daemon serving the host API uses the same
 * way, so the two answer alike.
 *
 * Every answer comes from the journal. A job that no live process follows
 * (started with `flotilla run --detach`, or whose host died) is brought up
 * to date first — its status, the log lines its provider has — by this
 * process, through the journal's lease; a job another process follows is
 * read from the journal as that process writes it, so a log can be followed
 * from any process on the machine.
 */
import { NotFoundError } from "@flotilla/protocol";
import {
  type JobObserver,
  type JobSubmission,
  JobTracker,
  type JobTrackerOptions,
  type TrackedJob,
} from "./job-tracker.js";
import type { JobJournal, JobRef, JournalJob, JournalLogLine, JournalQuery } from "./journal.js";
import { isLeaseOwnerGone } from "./lease-owner.js";

/** How often a follower reads the journal for a job another process follows. */
export const DEFAULT_TAIL_POLL_MS = 200;

/** Options of a {@link JobService}: the tracker's, and how the journal is read. */
export interface JobServiceOptions extends JobTrackerOptions {
  /** How often a log or a cancel is looked for in the journal while another process follows the job; default 200 ms. */
  readonly tailPollMs?: number;
}

/** How {@link JobService.logs} reads a log. */
export interface LogReadOptions {
  /** Lines after this seq (0: from the start). */
  readonly after?: number;
  /** Keep reading until the job has finished and its log is complete. */
  readonly follow?: boolean;
  /** Stops reading. */
  readonly signal?: AbortSignal;
  /** Most lines per batch; default 1000. */
  readonly batch?: number;
}

/** Run, list, status, logs and cancel of jobs, over a journal; see the file comment. */
export class JobService {
  /** The tracker that dispatches and follows this process's jobs. */
  readonly tracker: JobTracker;
  readonly #journal: JobJournal;
  readonly #tailPollMs: number;
  readonly #isOwnerGone: (owner: string) => boolean;

  constructor(options: JobServiceOptions) {
    this.tracker = new JobTracker(options);
    this.#journal = options.journal;
    this.#tailPollMs = options.tailPollMs ?? DEFAULT_TAIL_POLL_MS;
    this.#isOwnerGone = options.isOwnerGone ?? isLeaseOwnerGone;
  }

  /** The journal answers come from. */
  get journal(): JobJournal {
    return this.#journal;
  }

  /**
   * Records and dispatches a job, followed by this process (see JobTracker.submit). To leave it running on its
   * own, wait for `handle` and `close()` the service: nothing is cancelled.
   */
  run(submission: JobSubmission, observer?: JobObserver): Promise<TrackedJob> {
    return this.tracker.submit(submission, observer);
  }

  /** Jobs in the journal, newest first. */
  list(query?: JournalQuery): Promise<JournalJob[]> {
    return this.#journal.list(query);
  }

  /**
   * The job `ref` names: a handle ({provider, jobId}, or "provider:jobId" as `flotilla run` prints it), or the
   * journal's id of the job. Fails with NotFoundError naming the journal.
   */
  async find(ref: JobRef | string): Promise<JournalJob> {
    const parsed = typeof ref === "string" ? parseJobRef(ref) : ref;
    const job = typeof parsed === "string" ? await this.#journal.get(parsed) : await this.#journal.findByHandle(parsed);
    if (!job) {
      const named = typeof ref === "string" ? ref : `${ref.provider}:${ref.jobId}`;
      throw new NotFoundError(
        `job ${named} is not in the job journal ${this.#journal.location}; it lists the jobs started through it (flotilla jobs list)`,
      );
    }
    return job;
  }

  /** The job, its status brought up to date from its provider when no live process follows it. */
  async status(ref: JobRef | string): Promise<JournalJob> {
    const job = await this.find(ref);
    if (job.finished || this.#followedElsewhere(job)) return job;
    return (await this.tracker.refresh(job.id)) ?? job;
  }

  /**
   * The job's stored log lines after `after`, in batches. A job no live process follows is brought up to date
   * first; with `follow`, the lines keep coming until the job has finished (followed here when nobody else
   * follows it, else read from the journal as its follower stores them).
   */
  async *logs(ref: JobRef | string, options: LogReadOptions = {}): AsyncGenerator<JournalLogLine[]> {
    const batch = options.batch ?? 1000;
    let job = await this.find(ref);
    let after = options.after ?? 0;
    if (!options.follow) {
      if (!job.finished && !this.#followedElsewhere(job)) await this.tracker.refresh(job.id, { logs: true });
      for (;;) {
        const lines = await this.#journal.readLog(job.id, after, batch);
        if (lines.length === 0) return;
        after = (lines.at(-1) as JournalLogLine).seq;
        yield lines;
      }
    }
    for (;;) {
      if (options.signal?.aborted) return;
      const lines = await this.#journal.readLog(job.id, after, batch);
      if (lines.length > 0) {
        after = (lines.at(-1) as JournalLogLine).seq;
        yield lines;
        continue;
      }
      // Finished is written after the last line: a job seen finished has all its lines stored.
      if (job.finished) return;
      job = (await this.#journal.get(job.id)) ?? job;
      if (job.finished) continue;
      if (!this.tracker.followed(job.id) && !this.#followedElsewhere(job)) await this.tracker.attach(job.id);
      await pause(this.#tailPollMs, options.signal);
    }
  }

  /**
   * Cancels the job: asked through the journal, carried out by its follower, or here when it has none. Waits
   * until the job has finished, at most `waitMs` (default 60 s), and returns it as it is then.
   */
  async cancel(
    ref: JobRef | string,
    reason: string,
    options: { waitMs?: number; signal?: AbortSignal } = {},
  ): Promise<JournalJob> {
    let job = await this.find(ref);
    if (job.finished) return job;
    await this.tracker.cancel(job.id, reason);
    if (!this.tracker.followed(job.id) && !this.#followedElsewhere(job)) await this.tracker.attach(job.id);
    const deadline = AbortSignal.timeout(options.waitMs ?? 60_000);
    const signal = options.signal ? AbortSignal.any([deadline, options.signal]) : deadline;
    const followed = this.tracker.followed(job.id);
    if (followed) {
      await Promise.race([followed.done, aborted(signal)]);
      return (await this.#journal.get(job.id)) ?? job;
    }
    while (!job.finished && !signal.aborted) {
      await pause(this.#tailPollMs, signal);
      job = (await this.#journal.get(job.id)) ?? job;
    }
    return job;
  }

  /** Stops following (nothing is cancelled: see JobTracker.close); the journal stays open. */
  close(): Promise<void> {
    return this.tracker.close();
  }

  /** True when another process holds the job's lease and is alive (as far as this machine can tell). */
  #followedElsewhere(job: JournalJob): boolean {
    const lease = job.lease;
    if (!lease || lease.owner === this.tracker.owner) return false;
    return lease.expiresAt.getTime() > Date.now() && !this.#isOwnerGone(lease.owner);
  }
}

/**
 * A job reference as people type it: "provider:jobId" (a handle as `flotilla run` prints it; the job id may
 * itself contain colons) or a journal id (a UUID).
 */
export function parseJobRef(text: string): JobRef | string {
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(text)) return text;
  const colon = text.indexOf(":");
  const provider = colon < 0 ? "" : text.slice(0, colon);
  const jobId = colon < 0 ? "" : text.slice(colon + 1);
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(provider) || jobId === "") {
    throw new RangeError(
      `job ${JSON.stringify(text)} is neither a handle PROVIDER:JOB_ID (e.g. "local:3f2a9c...") nor a journal id (a UUID); \`flotilla run\` prints the handle of each job it starts, \`flotilla jobs list\` shows both`,
    );
  }
  return { provider, jobId };
}

/** "provider:jobId", as `flotilla run` prints a handle. */
export function formatJobRef(ref: JobRef): string {
  return `${ref.provider}:${ref.jobId}`;
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}
