/**
 * Maps an ECS task to the contract's JobStatus: the life-cycle state, the
 * job container's real exit code, and a reason built from the task's stop
 * code, stopped reason and the container's reason (where ECS reports image
 * pull failures, out-of-memory kills and Spot interruptions).
 */
import type { Task } from "@aws-sdk/client-ecs";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type JobHandleSchema, JobState, type JobStatusSchema } from "@flotilla/protocol";
import { jobContainerName } from "./task-definition.js";

/** The stopped-reason prefix the plugin uses when it stops a task for exceeding JobSpec.timeout. */
export const timeoutReasonPrefix = "Flotilla: job timeout";

const pendingStatuses = new Set(["PROVISIONING", "PENDING", "ACTIVATING"]);
const stoppingStatuses = new Set(["DEACTIVATING", "STOPPING", "DEPROVISIONING"]);

/** The JobStatus of a task as DescribeTasks, RunTask or StopTask returned it. */
export function jobStatusFromTask(
  handle: MessageInitShape<typeof JobHandleSchema>,
  task: Task,
): MessageInitShape<typeof JobStatusSchema> {
  const container = task.containers?.find((c) => c.name === jobContainerName) ?? task.containers?.[0];
  const last = task.lastStatus ?? "";
  const stopped = last === "STOPPED" || last === "DELETED";
  const status: MessageInitShape<typeof JobStatusSchema> = {
    handle: { provider: handle.provider ?? "aws", jobId: handle.jobId ?? task.taskArn ?? "" },
    state: JobState.UNKNOWN,
    reason: "",
    ...(task.createdAt ? { createdAt: timestampFromDate(task.createdAt) } : {}),
    ...(task.startedAt ? { startedAt: timestampFromDate(task.startedAt) } : {}),
    ...(stopped && task.stoppedAt ? { finishedAt: timestampFromDate(task.stoppedAt) } : {}),
  };
  if (pendingStatuses.has(last)) return { ...status, state: JobState.PENDING };
  if (last === "RUNNING") return { ...status, state: JobState.RUNNING };
  if (stoppingStatuses.has(last)) return { ...status, state: task.startedAt ? JobState.RUNNING : JobState.PENDING };
  if (!stopped) return { ...status, reason: `ECS reported an unknown task status ${JSON.stringify(last)}` };

  const exitCode = container?.exitCode;
  const parts = [
    task.stopCode && task.stoppedReason
      ? `${task.stopCode}: ${task.stoppedReason}`
      : (task.stopCode ?? task.stoppedReason ?? ""),
    container?.reason ?? "",
  ].filter((p) => p !== "");
  const reason = parts.join("; ");
  const withExit = exitCode === undefined ? status : { ...status, exitCode };
  if (task.stoppedReason?.startsWith(timeoutReasonPrefix)) return { ...withExit, state: JobState.FAILED, reason };
  if (task.stopCode === "UserInitiated") return { ...withExit, state: JobState.CANCELLED, reason };
  if (exitCode === 0) return { ...withExit, state: JobState.SUCCEEDED, reason: container?.reason ?? "" };
  return {
    ...withExit,
    state: JobState.FAILED,
    reason: exitCode === undefined ? reason || "the task stopped before its container reported an exit code" : reason,
  };
}
