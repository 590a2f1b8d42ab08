/**
 * The job id this plugin hands out is the ECS task ARN. It carries the
 * region and (in the long ARN format every account uses since 2021) the
 * cluster, so a handle can be served by any plugin process, including one
 * started after a restart, without a lookup table.
 */
import { InvalidArgumentError, type JobHandle } from "@flotilla/protocol";

/** Where a task lives. */
export interface TaskRef {
  /** The full task ARN. */
  taskArn: string;
  /** The region from the ARN. */
  region: string;
  /** The cluster name from the ARN, or the fallback for old-format ARNs. */
  cluster: string;
  /** The task id, the ARN's last segment. */
  taskId: string;
}

const taskArnPattern = /^arn:aws[a-z-]*:ecs:([a-z0-9-]+):\d{12}:task\/(?:([A-Za-z0-9_-]+)\/)?([A-Za-z0-9]+)$/;

/** Parses a task ARN; `fallbackCluster` serves old ARNs without the cluster segment. */
export function parseTaskArn(taskArn: string, fallbackCluster: string): TaskRef | undefined {
  const match = taskArnPattern.exec(taskArn);
  if (!match) return undefined;
  return { taskArn, region: match[1] as string, cluster: match[2] ?? fallbackCluster, taskId: match[3] as string };
}

/** The task behind a JobHandle, or InvalidArgumentError saying the handle is not one of this plugin's. */
export function taskRefFromHandle(handle: JobHandle | undefined, fallbackCluster: string): TaskRef {
  const jobId = handle?.jobId ?? "";
  const ref = parseTaskArn(jobId, fallbackCluster);
  if (!ref) {
    throw new InvalidArgumentError(
      `JobHandle.job_id: ${JSON.stringify(jobId.slice(0, 200))} is not an ECS task ARN; pass the handle RunJob returned from the aws provider`,
    );
  }
  return ref;
}
