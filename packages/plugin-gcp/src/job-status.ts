/**
 * Maps a Cloud Run execution and its task to the contract's JobStatus: the
 * life-cycle state from the execution's conditions and counts, and the real
 * exit code from the task's last attempt (`lastAttemptResult.exit_code`, or
 * 128 + the terminating signal as a shell reports it), never a made-up one.
 *
 * Condition types: "`ResourcesAvailable`: True when underlying resources have
 * been provisioned. `Started`: True when the execution has started to
 * execute. `Completed`: True when the execution has succeeded. False when the
 * execution has failed." (Cloud Run v1 REST reference, ExecutionStatus);
 * "At most one of exit_code or term_signal will be set" (task.proto,
 * TaskAttemptResult).
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { type JobHandleSchema, JobState, type JobStatusSchema } from "@flotilla/protocol";
import type { protos } from "@google-cloud/run";

export type Execution = protos.google.cloud.run.v2.IExecution;
export type Task = protos.google.cloud.run.v2.ITask;
type Condition = protos.google.cloud.run.v2.ICondition;
type WireTimestamp = protos.google.protobuf.ITimestamp | null | undefined;

/** What the poller knows about one job: its execution and, once finished, its first task. */
export interface ExecutionStatus {
  readonly execution: Execution;
  readonly task?: Task | undefined;
}

/** gRPC status codes in TaskAttemptResult.status (google/rpc/code.proto). */
const deadlineExceeded = 4;

function conditionOf(execution: Execution, type: string): Condition | undefined {
  return execution.conditions?.find((c) => c.type === type);
}

/** Milliseconds of a wire Timestamp (seconds arrive as a string: google-gax converts int64 to strings). */
export function timestampMsOf(ts: WireTimestamp): number | undefined {
  if (!ts || ts.seconds === undefined || ts.seconds === null) return undefined;
  return Number(ts.seconds) * 1000 + Math.floor(Number(ts.nanos ?? 0) / 1e6);
}

function toTimestamp(ts: WireTimestamp): { seconds: bigint; nanos: number } | undefined {
  if (!ts || ts.seconds === undefined || ts.seconds === null) return undefined;
  return { seconds: BigInt(String(ts.seconds)), nanos: Number(ts.nanos ?? 0) };
}

/** True when Cloud Run will not change the execution's outcome any more. */
export function isExecutionFinished(execution: Execution): boolean {
  if (execution.completionTime) return true;
  const state = String(conditionOf(execution, "Completed")?.state ?? "");
  return state === "CONDITION_SUCCEEDED" || state === "CONDITION_FAILED";
}

/** The exit code and what ended the task's last attempt. */
function attemptOutcome(task: Task | undefined): { exitCode?: number; reason: string } {
  const result = task?.lastAttemptResult;
  if (!result) return { reason: "" };
  const signal = Number(result.termSignal ?? 0);
  const code = Number(result.status?.code ?? 0);
  const message = result.status?.message ?? "";
  if (signal > 0) return { exitCode: 128 + signal, reason: message || `terminated by signal ${signal}` };
  if (code === deadlineExceeded) return { reason: message || "the task ran past its timeout" };
  const exitCode = Number(result.exitCode ?? 0);
  // A failed attempt with exit code 0 and no signal never ran its container (e.g. the image was missing).
  if (code !== 0 && exitCode === 0) return { reason: message };
  return { exitCode, reason: code === 0 ? "" : message };
}

/** The JobStatus of an execution (and its task, once finished). */
export function jobStatusFromExecution(
  handle: MessageInitShape<typeof JobHandleSchema>,
  { execution, task }: ExecutionStatus,
): MessageInitShape<typeof JobStatusSchema> {
  const createdAt = toTimestamp(execution.createTime);
  const startedAt = toTimestamp(execution.startTime);
  const finishedAt = toTimestamp(execution.completionTime);
  const status: MessageInitShape<typeof JobStatusSchema> = {
    handle: { provider: handle.provider ?? "gcp", jobId: handle.jobId ?? execution.name ?? "" },
    state: JobState.UNKNOWN,
    reason: "",
    ...(createdAt ? { createdAt } : {}),
    ...(startedAt ? { startedAt } : {}),
  };
  const completed = conditionOf(execution, "Completed");
  const resources = conditionOf(execution, "ResourcesAvailable");
  if (!isExecutionFinished(execution)) {
    if (String(resources?.state) === "CONDITION_FAILED")
      return { ...status, state: JobState.FAILED, reason: resources?.message ?? "" };
    const started = String(conditionOf(execution, "Started")?.state) === "CONDITION_SUCCEEDED";
    return {
      ...status,
      state: started || Number(execution.runningCount ?? 0) > 0 ? JobState.RUNNING : JobState.PENDING,
      reason: String(completed?.executionReason) === "CANCELLING" ? "cancelling" : "",
    };
  }
  const done = { ...status, ...(finishedAt ? { finishedAt } : {}) };
  const outcome = attemptOutcome(task);
  const withExit = outcome.exitCode === undefined ? done : { ...done, exitCode: outcome.exitCode };
  const conditionMessage = completed?.message ?? "";
  if (String(completed?.executionReason) === "CANCELLED" || Number(execution.cancelledCount ?? 0) > 0)
    return { ...withExit, state: JobState.CANCELLED, reason: conditionMessage || "cancelled" };
  if (String(completed?.state) === "CONDITION_SUCCEEDED" && Number(execution.failedCount ?? 0) === 0)
    return { ...withExit, state: JobState.SUCCEEDED, reason: "" };
  const reason = [outcome.reason, conditionMessage].filter((part, i, all) => part !== "" && all.indexOf(part) === i);
  return { ...withExit, state: JobState.FAILED, reason: reason.join("; ") || "the execution failed" };
}
