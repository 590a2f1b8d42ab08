/**
 * A plugin's output as structured log records: hclog-style JSON lines (what
 * the SDK and go-plugin's hclog write on stderr) keep their level, message
 * and fields; anything else becomes an info record with the raw text.
 */
import { maskSecretValues } from "@flotilla/protocol";

/** Log levels as hclog names them. */
export type PluginLogLevel = "trace" | "debug" | "info" | "warn" | "error";

/** Where a line came from. */
export type PluginLogSource = "stderr" | "stdout" | "stdio";

/** One line of plugin output, parsed. */
export interface PluginLogRecord {
  /** The plugin's configured name. */
  plugin: string;
  level: PluginLogLevel;
  message: string;
  /** Extra key/values from a JSON line (without the `@` keys). */
  fields: Record<string, unknown>;
  source: PluginLogSource;
  /** The `@timestamp` the plugin wrote, when it wrote one. */
  timestamp?: string;
}

/** Receives every record; supplied by the embedder or {@link pinoLogSink}. */
export type PluginLogSink = (record: PluginLogRecord) => void;

const levels: Record<string, PluginLogLevel> = {
  trace: "trace",
  debug: "debug",
  info: "info",
  warn: "warn",
  warning: "warn",
  error: "error",
};

/** Parses one output line; never throws. */
export function parsePluginLogLine(plugin: string, source: PluginLogSource, line: string): PluginLogRecord {
  const trimmed = line.trim();
  if (trimmed.startsWith("{") && trimmed.endsWith("}")) {
    try {
      const parsed = JSON.parse(trimmed) as Record<string, unknown>;
      if (parsed && typeof parsed === "object" && ("@message" in parsed || "@level" in parsed)) {
        const fields: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(parsed)) if (!k.startsWith("@")) fields[k] = v;
        if (typeof parsed["@module"] === "string") fields.module = parsed["@module"];
        const record: PluginLogRecord = {
          plugin,
          level: levels[String(parsed["@level"]).toLowerCase()] ?? "info",
          message: String(parsed["@message"] ?? ""),
          fields,
          source,
        };
        if (typeof parsed["@timestamp"] === "string") record.timestamp = parsed["@timestamp"];
        return record;
      }
    } catch {
      // Not JSON after all: fall through to a raw record.
    }
  }
  return { plugin, level: "info", message: line, fields: {}, source };
}

/** Replaces every occurrence of a secret value in strings, deeply, with `[REDACTED]`. */
export function redact<T>(value: T, secrets: readonly string[]): T {
  return maskSecretValues(value, secrets, "[REDACTED]");
}
