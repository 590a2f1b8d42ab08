/**
 * The one mapping from a provider job's terminal JobStatus to how a run
 * ended: its exit code, reason and message. The provider runner uses it for
 * `provider-ephemeral` runs and `flotilla run` gets its exit code from that
 * runner, so the two cannot disagree.
 *
 * The rule: a job that did not succeed never ends with exit code 0. A
 * FAILED (or UNKNOWN) job with an exit code of its own ends with that code
 * when it is non-zero, else with 1 and a message saying why; a CANCELLED
 * job ends with 130 (128 + SIGINT, as shells report an interrupted command)
 * whatever exit code its killed process had.
 */
import { JobState, type JobStatus } from "@flotilla/protocol";
import { CANCELLED_EXIT_CODE, type SandboxRunResult } from "./sandbox-runner.js";

/** Exit code of a job that failed without a usable exit code of its own. */
export const FAILED_EXIT_CODE = 1;

/** The states a job does not leave. */
export const TERMINAL_JOB_STATES: ReadonlySet<JobState> = new Set([
  JobState.SUCCEEDED,
  JobState.FAILED,
  JobState.CANCELLED,
  JobState.UNKNOWN,
]);

/** Whether a job in `state` has ended. */
export function isTerminalJobState(state: JobState): boolean {
  return TERMINAL_JOB_STATES.has(state);
}

/** "SUCCEEDED", "FAILED", ... for people. */
export function jobStateName(state: JobState): string {
  return JobState[state] ?? String(state);
}

/** How a run whose job reached `status` (terminal) ended. */
export function jobOutcome(
  status: Pick<JobStatus, "state" | "exitCode" | "reason">,
): Pick<SandboxRunResult, "exitCode" | "reason" | "message"> {
  const { state, exitCode, reason } = status;
  switch (state) {
    case JobState.SUCCEEDED:
      return { exitCode: exitCode ?? 0, reason: "exited", message: reason };
    case JobState.CANCELLED:
      return {
        exitCode: CANCELLED_EXIT_CODE,
        reason: "cancelled",
        message: reason || "the job was cancelled on the provider",
      };
    case JobState.FAILED:
      if (exitCode !== undefined && exitCode !== 0) return { exitCode, reason: "exited", message: reason };
      return {
        exitCode: FAILED_EXIT_CODE,
        reason: "failed",
        message: withReason(
          exitCode === 0
            ? "the provider reports the job FAILED although its exit code is 0"
            : "the provider reports the job failed",
          reason,
        ),
      };
    default:
      return {
        exitCode: exitCode !== undefined && exitCode !== 0 ? exitCode : FAILED_EXIT_CODE,
        reason: "failed",
        message: withReason(
          state === JobState.UNKNOWN
            ? "the provider lost track of the job"
            : `the job ended in state ${jobStateName(state)}, which is not a terminal state`,
          reason,
        ),
      };
  }
}

/** The exit code for a terminal job status: {@link jobOutcome}'s. */
export function exitCodeForStatus(status: Pick<JobStatus, "state" | "exitCode" | "reason">): number {
  return jobOutcome(status).exitCode;
}

function withReason(what: string, reason: string): string {
  return reason ? `${what}: ${reason}` : what;
}
