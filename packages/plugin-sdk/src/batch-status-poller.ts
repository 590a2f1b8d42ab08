/**
 * One status poller per API for every job a plugin tracks. Cloud APIs read
 * many jobs per call (ECS DescribeTasks takes 100 tasks), and their quotas
 * count calls, so asking one call per job per JobStatus caller runs out of
 * quota long before it runs out of jobs. This poller:
 *
 * - batches every lookup asked for in the same turn of the event loop, from
 *   any number of JobStatus / BatchJobStatus / JobLogs callers, into calls of
 *   at most `batchSize` jobs, one group (e.g. region and cluster) per call,
 *   and hands each caller its own job's result, in the order it asked;
 * - turns a failed call into an error for each job in it, not cached;
 * - answers from a cache inside the freshness window; a finished job's status
 *   no longer changes, so it is kept (up to a limit) and never asked again;
 * - refreshes the tracked, unfinished jobs in the background every interval,
 *   and stops polling when none are left;
 * - covers eventual consistency: a job started moments ago that the API does
 *   not show yet is not reported missing during a grace period.
 */
import { type FlotillaError, InternalError, isFlotillaError, UnavailableError } from "@flotilla/protocol";

/** What the poller knows about one job. */
export type StatusLookup<Status> =
  | { readonly kind: "found"; readonly status: Status }
  | { readonly kind: "missing" }
  | { readonly kind: "error"; readonly error: FlotillaError };

/** Options of {@link BatchStatusPoller}. */
export interface BatchStatusPollerOptions<Ref, Status> {
  /**
   * One API call for up to `batchSize` jobs of one group: the statuses found,
   * keyed by {@link keyOf}. A job left out of the map is missing.
   */
  readonly fetch: (refs: Ref[]) => Promise<ReadonlyMap<string, Status>>;
  /** A job's identity (e.g. its ARN): the cache key, and the key of `fetch`'s map. */
  readonly keyOf: (ref: Ref) => string;
  /** Which jobs one call may read together (e.g. region and cluster); default all. */
  readonly groupOf?: (ref: Ref) => string;
  /** True when the status will not change any more. */
  readonly isFinished: (status: Status) => boolean;
  /** Most jobs per call: the API's limit. */
  readonly batchSize: number;
  /** How often tracked, unfinished jobs are refreshed; also the cache's freshness window. */
  readonly intervalMs: number;
  /** The contract error for a failed call (e.g. the cloud's error translated); default: kept if already one, else INTERNAL. */
  readonly describeError?: (error: unknown) => FlotillaError;
  /** Sees every unfinished status a background poll returns (e.g. to enforce job timeouts). */
  readonly onUnfinished?: (status: Status, ref: Ref) => void;
  /** Most statuses kept; the oldest go first. Default 10 000. */
  readonly cacheLimit?: number;
  /**
   * How long after {@link BatchStatusPoller.started} a job the API does not
   * show counts as "not visible yet" rather than missing. Default 60 s.
   */
  readonly missingGraceMs?: number;
  /**
   * The status of a job started moments ago that the API does not show yet
   * and that was not primed with the create call's answer. Without it such a
   * lookup is a retriable UNAVAILABLE error.
   */
  readonly startingStatus?: (ref: Ref) => Status;
  /** The clock of the cache and the grace period, in ms; default Date.now. */
  readonly now?: () => number;
}

interface Pending<Ref, Status> {
  readonly ref: Ref;
  readonly key: string;
  readonly waiters: Array<(lookup: StatusLookup<Status>) => void>;
}

function internalError(error: unknown): FlotillaError {
  if (isFlotillaError(error)) return error;
  return new InternalError(`status poll failed: ${error instanceof Error ? error.message : String(error)}`, {
    cause: error,
  });
}

/** The shared, batching status poller of one API. */
export class BatchStatusPoller<Ref, Status> {
  private readonly tracked = new Map<string, Ref>();
  private readonly cache = new Map<string, { lookup: StatusLookup<Status>; at: number }>();
  private queue = new Map<string, Pending<Ref, Status>>();
  private flushScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  /** Jobs started (see started()) that the API has not shown yet: key → when. */
  private readonly unseen = new Map<string, number>();
  private readonly now: () => number;
  private readonly cacheLimit: number;
  private readonly missingGraceMs: number;

  constructor(private readonly options: BatchStatusPollerOptions<Ref, Status>) {
    if (!(Number.isSafeInteger(options.batchSize) && options.batchSize >= 1))
      throw new RangeError(`BatchStatusPoller: batchSize must be a whole number >= 1, got ${options.batchSize}`);
    if (!(Number.isFinite(options.intervalMs) && options.intervalMs > 0))
      throw new RangeError(`BatchStatusPoller: intervalMs must be a finite number > 0, got ${options.intervalMs}`);
    this.now = options.now ?? Date.now;
    this.cacheLimit = options.cacheLimit ?? 10_000;
    this.missingGraceMs = options.missingGraceMs ?? 60_000;
  }

  /** How many unfinished jobs the background loop polls. */
  get trackedCount(): number {
    return this.tracked.size;
  }

  /**
   * Records that the plugin just started this job, and tracks it: until the
   * API has shown it, or for the grace period, not finding it is eventual
   * consistency, not a missing job.
   */
  started(ref: Ref, at = this.now()): void {
    for (const [key, when] of this.unseen) if (at - when > this.missingGraceMs) this.unseen.delete(key);
    this.unseen.set(this.options.keyOf(ref), at);
    this.track(ref);
  }

  /** Adds a job to the background poll set until it finishes. */
  track(ref: Ref): void {
    this.tracked.set(this.options.keyOf(ref), ref);
    if (!this.timer) {
      this.timer = setInterval(() => void this.pollOnce(), this.options.intervalMs);
      // Polling alone must not keep the plugin process alive.
      this.timer.unref();
    }
  }

  /** Caches a status another call returned (the create call, a cancel), saving a call. */
  prime(key: string, status: Status): void {
    this.remember(key, { kind: "found", status }, this.now());
  }

  /** Drops a job's cached status so the next lookup asks the API. */
  invalidate(key: string): void {
    this.cache.delete(key);
  }

  /**
   * The status of each job, in the order asked. Answers from the cache when
   * the job is finished or its entry at most `maxAgeMs` old (a negative age
   * always asks the API); otherwise joins the next batch. Unfinished jobs
   * found this way are tracked from then on.
   */
  lookup(refs: readonly Ref[], maxAgeMs = this.options.intervalMs): Promise<StatusLookup<Status>[]> {
    const now = this.now();
    return Promise.all(
      refs.map((ref) => {
        const key = this.options.keyOf(ref);
        const cached = this.cache.get(key);
        if (cached && (this.finished(cached.lookup) || now - cached.at <= maxAgeMs)) return cached.lookup;
        return this.enqueue(ref, key);
      }),
    );
  }

  /** Refreshes every tracked, unfinished job now: the background loop's body (tests and benches call it). */
  async pollOnce(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const refs = [...this.tracked.values()];
      const lookups = await this.lookup(refs, -1);
      lookups.forEach((lookup, i) => {
        const ref = refs[i] as Ref;
        if (lookup.kind === "missing" || this.finished(lookup)) this.tracked.delete(this.options.keyOf(ref));
        else if (lookup.kind === "found") this.options.onUnfinished?.(lookup.status, ref);
      });
      if (this.tracked.size === 0) this.stopTimer();
    } finally {
      this.polling = false;
    }
  }

  /** Stops the background loop and forgets everything. */
  stop(): void {
    this.stopTimer();
    this.tracked.clear();
    this.cache.clear();
    this.unseen.clear();
  }

  private finished(lookup: StatusLookup<Status>): boolean {
    return lookup.kind === "found" && this.options.isFinished(lookup.status);
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private enqueue(ref: Ref, key: string): Promise<StatusLookup<Status>> {
    return new Promise((resolve) => {
      const pending = this.queue.get(key);
      if (pending) pending.waiters.push(resolve);
      else this.queue.set(key, { ref, key, waiters: [resolve] });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // Everything asked for in this turn of the event loop shares the calls.
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    const queue = this.queue;
    this.queue = new Map();
    const groups = new Map<string, Pending<Ref, Status>[]>();
    for (const pending of queue.values()) {
      const group = this.options.groupOf?.(pending.ref) ?? "";
      const members = groups.get(group);
      if (members) members.push(pending);
      else groups.set(group, [pending]);
    }
    const calls: Promise<void>[] = [];
    const size = this.options.batchSize;
    for (const group of groups.values())
      for (let i = 0; i < group.length; i += size) calls.push(this.fetchBatch(group.slice(i, i + size)));
    await Promise.all(calls);
  }

  private async fetchBatch(batch: Pending<Ref, Status>[]): Promise<void> {
    const settle = (pending: Pending<Ref, Status>, lookup: StatusLookup<Status>) => {
      for (const waiter of pending.waiters) waiter(lookup);
    };
    let found: ReadonlyMap<string, Status>;
    try {
      found = await this.options.fetch(batch.map((p) => p.ref));
    } catch (err) {
      const error = (this.options.describeError ?? internalError)(err);
      for (const pending of batch) settle(pending, { kind: "error", error });
      return;
    }
    const now = this.now();
    for (const pending of batch) {
      const { key, ref } = pending;
      const status = found.get(key);
      if (status !== undefined) this.unseen.delete(key);
      else {
        const startedAt = this.unseen.get(key);
        if (startedAt !== undefined && now - startedAt <= this.missingGraceMs) {
          // Not visible yet: answer with what the create call said, uncached, and ask again next time.
          this.track(ref);
          settle(pending, this.notVisibleYet(ref, key, now - startedAt));
          continue;
        }
        this.unseen.delete(key);
      }
      const lookup: StatusLookup<Status> = status !== undefined ? { kind: "found", status } : { kind: "missing" };
      this.remember(key, lookup, now);
      if (status !== undefined && !this.options.isFinished(status)) this.track(ref);
      settle(pending, lookup);
    }
  }

  private notVisibleYet(ref: Ref, key: string, ageMs: number): StatusLookup<Status> {
    const primed = this.cache.get(key)?.lookup;
    if (primed?.kind === "found") return primed;
    if (this.options.startingStatus) return { kind: "found", status: this.options.startingStatus(ref) };
    return {
      kind: "error",
      error: new UnavailableError(`job ${key} was started ${ageMs} ms ago and the API does not show it yet; ask again`),
    };
  }

  private remember(key: string, lookup: StatusLookup<Status>, at: number): void {
    this.cache.delete(key);
    this.cache.set(key, { lookup, at });
    if (this.cache.size > this.cacheLimit) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
  }
}
