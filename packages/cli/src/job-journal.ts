/**
 * The job journal as one CLI invocation uses it: where it is (a SQLite file, or a PostgreSQL database that
 * several hosts share), and a JobService (@flotilla/jobs) over it whose provider plugins are started in the
 * invocation's host when first needed (`flotilla jobs list` starts none).
 */
import { join } from "node:path";
import type { ProviderJobRunner } from "@flotilla/exec";
import { type JobJournal, JobService, type JobServiceOptions, SqliteJournal } from "@flotilla/jobs";
import { CliError } from "./cli-error.js";
import type { CliHost } from "./cli-host.js";
import { type FlotillaConfig, isPostgresUrl } from "./config/flotilla-config.js";
import { flotillaStateDir, type ProviderGrants, pluginConfigFor } from "./provider-plugins.js";

/** The journal: flotilla.yaml's `journal` (a file or a postgresql:// URL), else `journal.db` in Flotilla's state directory. */
export function journalPath(config: FlotillaConfig, env: NodeJS.ProcessEnv = process.env): string {
  return config.journal ?? join(flotillaStateDir(env), "journal.db");
}

/** A job service of one invocation, and how to end it. */
export interface CliJobs {
  readonly service: JobService;
  /** The runner client of `provider`, its plugin started in the invocation's host on first use. */
  runnerOf(provider: string): Promise<ProviderJobRunner>;
  /** Stops following (nothing is cancelled) and closes the journal; the caller stops its host after. */
  close(): Promise<void>;
}

/**
 * Opens the journal named by `where`: a SQLite file, or a PostgreSQL database by URL (through
 * `@flotilla/jobs/postgres`, loaded only then). The URL's password never appears in a message.
 */
export async function openJournal(where: string): Promise<JobJournal> {
  if (!isPostgresUrl(where)) return SqliteJournal.open(where);
  const { describePostgres, PostgresJournal } = await import("@flotilla/jobs/postgres");
  const location = describePostgres(where);
  try {
    return await PostgresJournal.open(where);
  } catch (error) {
    throw new CliError(
      `cannot open the job journal ${location}: ${(error as Error).message}; check journal: in flotilla.yaml and that the database accepts connections`,
    );
  }
}

/** Opens the journal and a job service over it, starting provider plugins in `cli` when first needed. */
export async function openCliJobs(
  config: FlotillaConfig,
  cli: CliHost,
  options: { grants?: ProviderGrants; runner?: JobServiceOptions["runner"] } = {},
): Promise<CliJobs> {
  const journal = await openJournal(journalPath(config));
  const started = new Map<string, Promise<ProviderJobRunner>>();
  const runnerOf = (provider: string): Promise<ProviderJobRunner> => {
    let runner = started.get(provider);
    if (!runner) {
      runner = cli.startProvider(pluginConfigFor(provider, config, options.grants)).then((client) => {
        const found = client.runner();
        if (found) return found;
        const services = client.registry.services;
        throw new CliError(
          `provider "${provider}" does not run jobs: its plugin does not advertise IaCProviderRunnerService (it advertises ${services.length ? services.join(", ") : "no optional services"})`,
        );
      });
      started.set(provider, runner);
    }
    return runner;
  };
  const service = new JobService({ journal, runners: runnerOf, ...(options.runner ? { runner: options.runner } : {}) });
  return {
    service,
    runnerOf,
    close: async () => {
      await service.close();
      await journal.close();
    },
  };
}
