/**
 * The default destination of plugin log records: a pino logger, one child
 * per plugin so every record carries `plugin`.
 */
import { createRequire } from "node:module";
import type { Logger } from "pino";
import type { PluginLogRecord, PluginLogSink } from "./log-record.js";

/**
 * A sink writing records to `logger` (default: pino to stderr at info). Never stdout by default: an
 * embedding program's stdout is its own output (`flotilla jobs logs --json | jq` must see only records).
 * The default logger is made at the first record: pino and its worker-thread transport are some twenty
 * modules that a host with a sink of its own (the CLI's) never needs to load.
 */
export function pinoLogSink(logger?: Logger): PluginLogSink {
  const children = new Map<string, Logger>();
  let root = logger;
  return (record: PluginLogRecord) => {
    let child = children.get(record.plugin);
    if (!child) {
      if (!root) {
        const { pino } = createRequire(import.meta.url)("pino") as typeof import("pino");
        root = pino({ name: "flotilla" }, pino.destination(2));
      }
      child = root.child({ plugin: record.plugin });
      children.set(record.plugin, child);
    }
    const extra: Record<string, unknown> = { ...record.fields, source: record.source };
    if (record.timestamp) extra.pluginTime = record.timestamp;
    child[record.level](extra, record.message);
  };
}
