/**
 * The plugin host as one CLI invocation uses it: plugin log records go to
 * stderr (warnings and errors, or everything with --verbose), and whatever
 * was started is stopped before the CLI exits.
 */
import { type PluginConfig, PluginHost, type PluginLogRecord, type ProviderClient } from "@flotilla/host";

/** Options shared by every command. */
export interface CliHostOptions {
  /** Show every plugin log record, not only warnings and errors. */
  verbose?: boolean;
  /** Where plugin log lines go; default process.stderr. */
  stderr?: NodeJS.WritableStream;
}

const QUIET_LEVELS = new Set(["warn", "error"]);

/** Renders one plugin log record as a single stderr line. */
export function formatLogRecord(record: PluginLogRecord): string {
  const fields = Object.entries(record.fields)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  return `[plugin ${record.plugin}] ${record.level}: ${record.message}${fields ? ` ${fields}` : ""}\n`;
}

/** A PluginHost that one command starts plugins in and always stops. */
export class CliHost {
  /** The underlying plugin manager. */
  readonly host: PluginHost;

  constructor(options: CliHostOptions = {}) {
    const stderr = options.stderr ?? process.stderr;
    this.host = new PluginHost({
      logSink: (record) => {
        if (options.verbose || QUIET_LEVELS.has(record.level)) stderr.write(formatLogRecord(record));
      },
    });
  }

  /** Starts one provider plugin and returns its client. */
  async startProvider(config: PluginConfig): Promise<ProviderClient> {
    await this.host.start([config]);
    return this.host.provider(config.name);
  }

  /** Stops every plugin this host started. */
  stop(): Promise<void> {
    return this.host.stop();
  }
}
