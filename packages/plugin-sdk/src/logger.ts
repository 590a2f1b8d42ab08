/**
 * The plugin's structured logger. It writes one JSON object per line to the
 * real stderr in hclog's JSON format ({"@level","@message","@timestamp",
 * "@module", ...fields}), which go-plugin hosts parse from plugin stderr and
 * the Flotilla host parses too; so records reach the host with their level
 * and fields intact. Fields whose names look secret are redacted.
 */
import { REDACTED_VALUE } from "@flotilla/protocol";
import type { PluginLogger } from "./definition.js";

/** Levels in hclog's spelling, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const levelRank: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Field names whose values are never written (credentials, tokens, keys). */
const SECRET_FIELD = /pass(word|wd|phrase)?|secret|token|credential|private.?key|api.?key|authorization|cookie/i;

/** What a redacted value is replaced with: the same text wherever Flotilla redacts a config value. */
export const REDACTED = REDACTED_VALUE;

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Written as "@module": the plugin name, so host records can be tagged. */
  module: string;
  /** Where finished lines go; the real stderr in production. */
  write: (line: string) => void;
  /** Records below this level are dropped. Default "info", or FLOTILLA_PLUGIN_LOG_LEVEL. */
  level?: LogLevel;
  /** Clock, for tests. */
  now?: () => Date;
}

/**
 * hclog's JSON timestamp layout is "2006-01-02T15:04:05.000000Z07:00": a Go
 * host fails to parse fewer than six fractional digits, so pad milliseconds.
 */
export function hclogTimestamp(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/** How an Error in a log field is written: its message and name (its stack stays out of the host's records). */
export function errorField(error: Error): { error: string; name: string } {
  return { error: error.message, name: error.name };
}

function redact(value: unknown, depth: number): unknown {
  if (value instanceof Error) return errorField(value);
  if (depth > 4 || value === null || typeof value !== "object") {
    if (typeof value === "bigint") return value.toString();
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_FIELD.test(k) ? REDACTED : redact(v, depth + 1);
  return out;
}

/** Builds a {@link PluginLogger} writing hclog JSON lines. */
export function createLogger(options: LoggerOptions): PluginLogger {
  const envLevel = process.env.FLOTILLA_PLUGIN_LOG_LEVEL as LogLevel | undefined;
  const threshold = levelRank[options.level ?? (envLevel && envLevel in levelRank ? envLevel : "info")];
  const now = options.now ?? (() => new Date());
  const log = (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (levelRank[level] < threshold) return;
    // Reserved hclog keys come last so a field cannot overwrite them.
    const record = {
      ...(redact(fields ?? {}, 0) as Record<string, unknown>),
      "@level": level,
      "@message": message,
      "@module": options.module,
      "@timestamp": hclogTimestamp(now()),
    };
    let line: string;
    try {
      line = JSON.stringify(record);
    } catch {
      // A cyclic or otherwise unserialisable field: keep the record, drop the fields.
      const { "@level": l, "@module": m, "@timestamp": t } = record;
      line = JSON.stringify({
        "@level": l,
        "@message": `${message} (fields not serialisable)`,
        "@module": m,
        "@timestamp": t,
      });
    }
    options.write(`${line}\n`);
  };
  return {
    debug: (m, f) => log("debug", m, f),
    info: (m, f) => log("info", m, f),
    warn: (m, f) => log("warn", m, f),
    error: (m, f) => log("error", m, f),
  };
}
