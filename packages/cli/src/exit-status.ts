/**
 * How a job's final status becomes the CLI's exit code: the job's own exit
 * code whenever there is one, so `flotilla run -- CMD` can stand in for CMD
 * in scripts.
 */
import { JobState, type JobStatus } from "@flotilla/protocol";

/** Exit code for a job stopped by Ctrl-C or CancelJob: 128 + SIGINT, as shells do. */
export const EXIT_CANCELLED = 130;
/** Exit code when the job failed without an exit code of its own (e.g. it could not start). */
export const EXIT_JOB_FAILED = 1;
/** Exit code when the CLI itself could not do what was asked (bad input, plugin failure). */
export const EXIT_USAGE_OR_HOST_ERROR = 2;
/** Exit code when whatever read the CLI's output stopped reading (`| head`): 128 + SIGPIPE, as shells report a writer that SIGPIPE ended. */
export const EXIT_CLOSED_PIPE = 141;

/** The CLI exit code for a terminal job status. */
export function exitCodeForStatus(status: Pick<JobStatus, "state" | "exitCode">): number {
  switch (status.state) {
    case JobState.SUCCEEDED:
      return status.exitCode ?? 0;
    case JobState.CANCELLED:
      return EXIT_CANCELLED;
    default:
      return status.exitCode !== undefined && status.exitCode !== 0 ? status.exitCode : EXIT_JOB_FAILED;
  }
}

/** "SUCCEEDED", "FAILED", ... for people. */
export function stateName(state: JobState): string {
  return JobState[state] ?? String(state);
}
