/**
 * The SDK's batching status poller on ECS DescribeTasks: one poller for every
 * job the plugin tracks, up to 100 tasks (the API's limit) per call, one
 * region and cluster per call. What is ECS's own is here: the call, its
 * error translation, what "finished" means, and how long a task RunTask just
 * started may be invisible to DescribeTasks.
 */
import type { Task } from "@aws-sdk/client-ecs";
import { BatchStatusPoller, type StatusLookup } from "@flotilla/plugin-sdk";
import { translateAwsError } from "./errors.js";
import type { TaskRef } from "./task-arn.js";

/** What the poller knows about one task. */
export type TaskLookup = StatusLookup<Task>;

/** One DescribeTasks call: the tasks found (a task left out is missing). */
export type DescribeTasksBatch = (region: string, cluster: string, taskArns: string[]) => Promise<{ tasks: Task[] }>;

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

/** "You can specify up to 100 tasks to describe." (ECS API reference, DescribeTasks `tasks`.) */
const describeTasksLimit = 100;

/** True when ECS will not change the task's status any more. */
export function isFinished(task: Task): boolean {
  return task.lastStatus === "STOPPED" || task.lastStatus === "DELETED";
}

/** The shared, batching DescribeTasks poller. */
export class StatusPoller extends BatchStatusPoller<TaskRef, Task> {
  constructor(options: StatusPollerOptions) {
    super({
      keyOf: (ref) => ref.taskArn,
      groupOf: (ref) => `${ref.region} ${ref.cluster}`,
      batchSize: Math.min(options.batchSize ?? describeTasksLimit, describeTasksLimit),
      intervalMs: options.intervalMs,
      async fetch(refs) {
        const { region, cluster } = refs[0] as TaskRef;
        const { tasks } = await options.describe(
          region,
          cluster,
          refs.map((ref) => ref.taskArn),
        );
        return new Map(tasks.map((task) => [task.taskArn ?? "", task]));
      },
      describeError: (err) => translateAwsError(err, "ECS DescribeTasks"),
      isFinished,
      ...(options.onUnfinishedTask ? { onUnfinished: options.onUnfinishedTask } : {}),
      ...(options.cacheLimit !== undefined ? { cacheLimit: options.cacheLimit } : {}),
      missingGraceMs: options.missingGraceMs ?? defaultMissingGraceMs,
      // Not visible yet and RunTask's answer lost (a ConflictException retry): the task is being provisioned.
      startingStatus: (ref) => ({ taskArn: ref.taskArn, lastStatus: "PROVISIONING", desiredStatus: "RUNNING" }),
    });
  }
}
