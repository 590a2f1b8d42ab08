/**
 * The default destination of plugin log records: a pino logger, one child
 * per plugin so every record carries `plugin`.
 */
import { type Logger, pino } from "pino";
import type { PluginLogRecord, PluginLogSink } from "./log-record.js";

/**
 * A sink writing records to `logger` (default: pino to stderr at info). Never stdout by default: an
 * embedding program's stdout is its own output (`flotilla jobs logs --json | jq` must see only records).
 */
export function pinoLogSink(logger: Logger = pino({ name: "flotilla" }, pino.destination(2))): PluginLogSink {
  const children = new Map<string, Logger>();
  return (record: PluginLogRecord) => {
    let child = children.get(record.plugin);
    if (!child) {
      child = logger.child({ plugin: record.plugin });
      children.set(record.plugin, child);
    }
    const extra: Record<string, unknown> = { ...record.fields, source: record.source };
    if (record.timestamp) extra.pluginTime = record.timestamp;
    child[record.level](extra, record.message);
  };
}
