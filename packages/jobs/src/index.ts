/**
 * @flotilla/jobs — durable jobs for a Flotilla host: the job journal (where
 * every dispatched job is recorded before its provider is called), the
 * tracker that dispatches and follows jobs through it and picks them up
 * again after a restart, and the job service that the CLI and a daemon
 * share to list, follow and cancel them.
 */

export {
  DEFAULT_TAIL_POLL_MS,
  formatJobRef,
  JobService,
  type JobServiceOptions,
  type LogReadOptions,
  parseJobRef,
} from "./job-service.js";
export {
  DEFAULT_LEASE_MS,
  type FollowEnd,
  type JobObserver,
  type JobSubmission,
  JobTracker,
  type JobTrackerOptions,
  journalStateOf,
  outcomeOf,
  type RunnerSource,
  type TrackedJob,
} from "./job-tracker.js";
export {
  FINAL_JOURNAL_STATES,
  type HeldJob,
  isFinalState,
  type JobJournal,
  type JobRef,
  type JournalJob,
  type JournalLogLine,
  type JournalLogStream,
  type JournalOutcome,
  type JournalQuery,
  type JournalState,
  type JournalTransition,
  LeaseLostError,
  type NewJournalJob,
  type NewJournalLogLine,
} from "./journal.js";
export type { LogBatchLimits } from "./journal-log-writer.js";
export { isLeaseOwnerGone, newLeaseOwner } from "./lease-owner.js";
export { specDigest } from "./spec-digest.js";
export {
  DEFAULT_BUSY_TIMEOUT_MS,
  SQLITE_JOURNAL_SCHEMA_VERSION,
  SqliteJournal,
  type SqliteJournalOptions,
} from "./sqlite-journal.js";
