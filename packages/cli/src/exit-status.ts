/**
 * The CLI's own exit codes. How a job's final status becomes an exit code is
 * decided in one place, @flotilla/exec's jobOutcome(), which the provider
 * runner behind `flotilla run` applies: the job's own exit code whenever it
 * has one, so `flotilla run -- CMD` can stand in for CMD in scripts, and
 * never 0 for a job that did not succeed. Not imported from there: every
 * command loads this module, and most do not need the exec package.
 */
import { JobState } from "@flotilla/protocol";

/** Exit code for a job stopped by Ctrl-C or CancelJob: 128 + SIGINT, as shells do (exec's CANCELLED_EXIT_CODE). */
export const EXIT_CANCELLED = 130;
/** Exit code when the CLI itself could not do what was asked (bad input, plugin failure). */
export const EXIT_USAGE_OR_HOST_ERROR = 2;
/** Exit code when whatever read the CLI's output stopped reading (`| head`): 128 + SIGPIPE, as shells report a writer that SIGPIPE ended. */
export const EXIT_CLOSED_PIPE = 141;

/** "SUCCEEDED", "FAILED", ... for people. */
export function stateName(state: JobState): string {
  return JobState[state] ?? String(state);
}
