/**
 * `@flotilla/jobs/postgres`: the job journal in PostgreSQL, for several host
 * replicas sharing one journal. Loads `pg` (an optional peer dependency:
 * install it beside @flotilla/jobs); the embedded SQLite journal needs
 * nothing, so the main entry point does not import this one.
 */
export {
  describePostgres,
  POSTGRES_JOURNAL_SCHEMA_VERSION,
  PostgresJournal,
  type PostgresJournalOptions,
} from "./postgres-journal.js";
