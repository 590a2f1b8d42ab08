/**
 * The job journal as one CLI invocation uses it: where the file is, and a
 * JobService (@flotilla/jobs) over it whose provider plugins are started in
 * the invocation's host when first needed (`flotilla jobs list` starts none).
 */
import { join } from "node:path";
import type { ProviderJobRunner } from "@flotilla/exec";
import { JobService, type JobServiceOptions, SqliteJournal } from "@flotilla/jobs";
import { CliError } from "./cli-error.js";
import type { CliHost } from "./cli-host.js";
import type { FlotillaConfig } from "./config/flotilla-config.js";
import { flotillaStateDir, type ProviderGrants, pluginConfigFor } from "./provider-plugins.js";

/** The journal's file: flotilla.yaml's `journal`, else `journal.db` in Flotilla's state directory. */
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

/** Opens the journal and a job service over it, starting provider plugins in `cli` when first needed. */
export function openCliJobs(
  config: FlotillaConfig,
  cli: CliHost,
  options: { grants?: ProviderGrants; runner?: JobServiceOptions["runner"] } = {},
): CliJobs {
  const journal = SqliteJournal.open(journalPath(config));
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
