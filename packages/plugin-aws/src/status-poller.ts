/**
 * One shared status poller for every job the plugin tracks. Instead of one
 * DescribeTasks call per job per poll, it batches up to 100 tasks (the API's
 * limit) per call, grouped by region and cluster, across all tracked jobs
 * and all concurrent JobStatus / BatchJobStatus / JobLogs callers. A
 * background loop refreshes the tracked, unfinished jobs every interval;
 * callers inside that interval are answered from the cache; finished jobs
 * stay cached (their status no longer changes) and leave the poll set.
 */
import type { Task } from "@aws-sdk/client-ecs";
import type { FlotillaError } from "@flotilla/protocol";
import { translateAwsError } from "./errors.js";
import type { TaskRef } from "./task-arn.js";

/** What the poller knows about one task. */
export type TaskLookup = { kind: "found"; task: Task } | { kind: "missing" } | { kind: "error"; error: FlotillaError };

/** One DescribeTasks call: the tasks found and the ARNs ECS reported as failures. */
export type DescribeTasksBatch = (
  region: string,
  cluster: string,
  taskArns: string[],
) => Promise<{ tasks: Task[]; failures: Array<{ arn?: string; reason?: string }> }>;

/** Options of {@link StatusPoller}. */
export interface StatusPollerOptions {
  /** Calls DescribeTasks for up to `batchSize` tasks of one cluster. */
  describe: DescribeTasksBatch;
  /** How often tracked, unfinished tasks are refreshed; also the cache's freshness window. */
  intervalMs: number;
  /** Tasks per DescribeTasks call; ECS allows at most 100. */
  batchSize?: number;
  /** Called with every unfinished task a poll returns (the runner enforces job timeouts here). */
  onUnfinishedTask?: (task: Task) => void;
  /** Most finished tasks kept in the cache. */
  cacheLimit?: number;
  /**
   * How long after RunTask a MISSING answer means "not visible yet" rather
   * than "no such task"; default {@link defaultMissingGraceMs}.
   */
  missingGraceMs?: number;
}

/**
 * ECS is eventually consistent: "the result of an API command you run that
 * affects your Amazon ECS resources might not be immediately visible to all
 * subsequent commands you run ... Run the DescribeTasks command using an
 * exponential backoff algorithm to ensure that you allow enough time for the
 * previous command to propagate through the system" (ECS API reference,
 * RunTask, as carried in @aws-sdk/client-ecs's model). ECS publishes no bound
 * on the delay; for this long after RunTask a MISSING task is asked for again
 * on every lookup instead of being reported as not found.
 */
export const defaultMissingGraceMs = 60_000;

/** True when ECS will not change the task's status any more. */
export function isFinished(task: Task): boolean {
  return task.lastStatus === "STOPPED" || task.lastStatus === "DELETED";
}

interface Pending {
  ref: TaskRef;
  waiters: Array<(lookup: TaskLookup) => void>;
}

/** The shared, batching DescribeTasks poller. */
export class StatusPoller {
  private readonly tracked = new Map<string, TaskRef>();
  private readonly cache = new Map<string, { lookup: TaskLookup; at: number }>();
  private queue = new Map<string, Pending>();
  private flushScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private readonly batchSize: number;
  private readonly cacheLimit: number;
  private readonly missingGraceMs: number;
  /** Tasks this process started (RunTask) and has not seen in DescribeTasks yet: ARN → when. */
  private readonly unseen = new Map<string, number>();

  constructor(private readonly options: StatusPollerOptions) {
    this.batchSize = Math.min(options.batchSize ?? 100, 100);
    this.cacheLimit = options.cacheLimit ?? 10_000;
    this.missingGraceMs = options.missingGraceMs ?? defaultMissingGraceMs;
  }

  /**
   * Records that RunTask just started (or returned) this task, and tracks it:
   * until DescribeTasks has seen it, or for the grace period, a MISSING answer
   * is eventual consistency, not a missing task (see defaultMissingGraceMs).
   */
  started(ref: TaskRef, at = Date.now()): void {
    for (const [arn, when] of this.unseen) if (at - when > this.missingGraceMs) this.unseen.delete(arn);
    this.unseen.set(ref.taskArn, at);
    this.track(ref);
  }

  /** How many unfinished jobs the background loop polls. */
  get trackedCount(): number {
    return this.tracked.size;
  }

  /** Adds a task to the background poll set until it finishes. */
  track(ref: TaskRef): void {
    this.tracked.set(ref.taskArn, ref);
    if (!this.timer) {
      this.timer = setInterval(() => void this.pollOnce(), this.options.intervalMs);
      // Polling alone must not keep the plugin process alive.
      this.timer.unref();
    }
  }

  /**
   * Caches a task snapshot another call returned (RunTask, StopTask). Besides
   * saving a call, it covers ECS's eventual consistency: right after RunTask,
   * DescribeTasks may briefly report the new task as MISSING.
   */
  prime(task: Task): void {
    if (task.taskArn) this.remember(task.taskArn, { kind: "found", task }, Date.now());
  }

  /** Drops a task's cached status so the next lookup asks ECS. */
  invalidate(taskArn: string): void {
    this.cache.delete(taskArn);
  }

  /**
   * The status of each task, in order. Answers from the cache when the entry
   * is finished or at most `maxAgeMs` old (a negative age always asks ECS);
   * otherwise joins the next batch.
   * Unfinished tasks found this way are tracked from then on.
   */
  lookup(refs: readonly TaskRef[], maxAgeMs = this.options.intervalMs): Promise<TaskLookup[]> {
    const now = Date.now();
    return Promise.all(
      refs.map((ref) => {
        const cached = this.cache.get(ref.taskArn);
        if (
          cached &&
          ((cached.lookup.kind === "found" && isFinished(cached.lookup.task)) || now - cached.at <= maxAgeMs)
        ) {
          return Promise.resolve(cached.lookup);
        }
        return this.enqueue(ref);
      }),
    );
  }

  /** Refreshes every tracked, unfinished task now (the background loop's body; benches call it directly). */
  async pollOnce(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const refs = [...this.tracked.values()];
      // A negative age forces a fetch even for entries cached this very millisecond.
      const lookups = await this.lookup(refs, -1);
      lookups.forEach((lookup, i) => {
        const ref = refs[i] as TaskRef;
        if (lookup.kind === "missing" || (lookup.kind === "found" && isFinished(lookup.task)))
          this.tracked.delete(ref.taskArn);
        else if (lookup.kind === "found") this.options.onUnfinishedTask?.(lookup.task);
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

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private enqueue(ref: TaskRef): Promise<TaskLookup> {
    return new Promise((resolve) => {
      const pending = this.queue.get(ref.taskArn);
      if (pending) pending.waiters.push(resolve);
      else this.queue.set(ref.taskArn, { ref, waiters: [resolve] });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // Everything asked for in this turn of the event loop shares the batches.
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    const queue = this.queue;
    this.queue = new Map();
    const groups = new Map<string, Pending[]>();
    for (const pending of queue.values()) {
      const key = `${pending.ref.region} ${pending.ref.cluster}`;
      const group = groups.get(key) ?? [];
      group.push(pending);
      groups.set(key, group);
    }
    const calls: Promise<void>[] = [];
    for (const group of groups.values()) {
      for (let i = 0; i < group.length; i += this.batchSize)
        calls.push(this.describeBatch(group.slice(i, i + this.batchSize)));
    }
    await Promise.all(calls);
  }

  private async describeBatch(batch: Pending[]): Promise<void> {
    const first = batch[0] as Pending;
    const settle = (pending: Pending, lookup: TaskLookup) => {
      for (const waiter of pending.waiters) waiter(lookup);
    };
    try {
      const result = await this.options.describe(
        first.ref.region,
        first.ref.cluster,
        batch.map((p) => p.ref.taskArn),
      );
      const byArn = new Map(result.tasks.map((t) => [t.taskArn ?? "", t]));
      const now = Date.now();
      for (const pending of batch) {
        const arn = pending.ref.taskArn;
        const task = byArn.get(arn);
        if (task) this.unseen.delete(arn);
        else {
          const startedAt = this.unseen.get(arn);
          if (startedAt !== undefined && now - startedAt <= this.missingGraceMs) {
            // Not visible yet: answer with what RunTask said (or "provisioning") and ask again next time.
            const cached = this.cache.get(arn)?.lookup;
            this.track(pending.ref);
            settle(
              pending,
              cached?.kind === "found"
                ? cached
                : { kind: "found", task: { taskArn: arn, lastStatus: "PROVISIONING", desiredStatus: "RUNNING" } },
            );
            continue;
          }
          this.unseen.delete(arn);
        }
        const lookup: TaskLookup = task ? { kind: "found", task } : { kind: "missing" };
        this.remember(pending.ref.taskArn, lookup, now);
        if (task && !isFinished(task)) this.track(pending.ref);
        settle(pending, lookup);
      }
    } catch (err) {
      const error = translateAwsError(err, "ECS DescribeTasks");
      for (const pending of batch) settle(pending, { kind: "error", error });
    }
  }

  private remember(taskArn: string, lookup: TaskLookup, at: number): void {
    this.cache.delete(taskArn);
    this.cache.set(taskArn, { lookup, at });
    if (this.cache.size > this.cacheLimit) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
  }
}
