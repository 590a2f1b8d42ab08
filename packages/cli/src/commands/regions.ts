/**
 * `flotilla regions PROVIDER`: the regions a provider reports through its
 * RegionLister service.
 */

import { CliError } from "../cli-error.js";
import { CliHost } from "../cli-host.js";
import { loadConfig } from "../config/load-config.js";
import type { Progress } from "../progress.js";
import { pluginConfigFor } from "../provider-plugins.js";

/** Options of `flotilla regions`. */
export interface RegionsOptions {
  config?: string;
  json?: boolean;
  verbose?: boolean;
}

/** Lists a provider's regions; a provider without RegionLister is an error naming what it does serve. */
export async function regionsCommand(
  providerName: string,
  options: RegionsOptions,
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; progress: Progress },
): Promise<number> {
  const { config } = loadConfig(options.config);
  const pluginConfig = pluginConfigFor(providerName, config);
  const cli = new CliHost({ verbose: options.verbose ?? false, stderr: io.stderr });
  try {
    io.progress.update(`starting provider plugin ${providerName}`);
    const provider = await cli.startProvider(pluginConfig);
    const lister = provider.regionLister();
    if (!lister) {
      const services = provider.registry.services;
      throw new CliError(
        `provider "${providerName}" does not list regions: its plugin does not advertise RegionListerService (it advertises ${services.length ? services.join(", ") : "no optional services"})`,
      );
    }
    io.progress.update(`listing regions of ${providerName}`);
    const { regions } = await lister.listRegions({});
    io.progress.clear();
    if (options.json) {
      io.stdout.write(
        `${JSON.stringify(
          regions.map(({ id, displayName, available }) => ({ id, displayName, available })),
          null,
          2,
        )}\n`,
      );
    } else {
      for (const r of regions) io.stdout.write(`${r.id}\t${r.displayName}${r.available ? "" : "\t(not available)"}\n`);
    }
    return 0;
  } finally {
    io.progress.clear();
    await cli.stop();
  }
}
