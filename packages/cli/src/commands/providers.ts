/**
 * `flotilla providers`: every provider the config offers, each started once
 * to show its version and the optional services it really serves.
 */

import { CliHost } from "../cli-host.js";
import { loadConfig } from "../config/load-config.js";
import type { Progress } from "../progress.js";
import { pluginConfigFor, providerNames } from "../provider-plugins.js";

/** Options of `flotilla providers`. */
export interface ProvidersOptions {
  config?: string;
  json?: boolean;
  verbose?: boolean;
}

/** One row of the listing. */
export interface ProviderRow {
  name: string;
  default: boolean;
  version?: string;
  services?: string[];
  error?: string;
}

/** Starts each provider in turn (a broken one does not hide the others) and lists them. */
export async function providersCommand(
  options: ProvidersOptions,
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; progress: Progress },
): Promise<number> {
  const { config } = loadConfig(options.config);
  const defaultName = config.default_provider ?? "local";
  const rows: ProviderRow[] = [];
  for (const name of providerNames(config)) {
    const cli = new CliHost({ verbose: options.verbose ?? false, stderr: io.stderr });
    io.progress.update(`starting provider plugin ${name}`);
    try {
      const provider = await cli.startProvider(pluginConfigFor(name, config));
      const registry = provider.registry;
      rows.push({
        name,
        default: name === defaultName,
        version: registry.pluginVersion,
        services: registry.services.map((s) => s.replace(/^flotilla\.plugin\.v1\./, "").replace(/Service$/, "")),
      });
    } catch (err) {
      rows.push({ name, default: name === defaultName, error: (err as Error).message.split("\n")[0] ?? "" });
    } finally {
      await cli.stop();
    }
  }
  io.progress.clear();
  if (options.json) {
    io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  } else {
    for (const row of rows) {
      const mark = row.default ? " (default)" : "";
      io.stdout.write(
        row.error
          ? `${row.name}${mark}\tFAILED TO START: ${row.error}\n`
          : `${row.name}${mark}\t${row.version}\t${row.services?.join(", ") || "no optional services"}\n`,
      );
    }
  }
  return rows.some((r) => r.error) ? 1 : 0;
}
