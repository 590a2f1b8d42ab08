/**
 * The one error class the plugin manager throws: it names the plugin, the
 * phase that failed, the timeout that applied, how the process ended and the
 * last lines of its stderr, so a failed start says why without a debugger.
 */

/** Where in a plugin's life a failure happened. */
export type PluginPhase = "spawn" | "handshake" | "connect" | "health" | "registry" | "configure" | "call" | "stop";

/** Everything a {@link PluginError} reports besides its summary. */
export interface PluginErrorDetails {
  /** The plugin's configured name. */
  plugin: string;
  /** The phase that failed. */
  phase: PluginPhase;
  /** The timeout that ran out, in milliseconds, when the failure was a timeout. */
  timeoutMs?: number;
  /** The process's exit code when it had exited. */
  exitCode?: number;
  /** The signal that ended the process, when one did. */
  signal?: string;
  /** The last lines the plugin wrote to stderr, oldest first. */
  stderrTail?: readonly string[];
  /** The lower-level error. */
  cause?: unknown;
}

/** A plugin failed to start, answer or stop; the message says where and why. */
export class PluginError extends Error {
  /** The plugin's configured name. */
  readonly plugin: string;
  /** The phase that failed. */
  readonly phase: PluginPhase;
  /** The timeout that ran out, in milliseconds, if any. */
  readonly timeoutMs: number | undefined;
  /** The process's exit code, if it had exited. */
  readonly exitCode: number | undefined;
  /** The signal that ended the process, if any. */
  readonly signal: string | undefined;
  /** The last lines of the plugin's stderr, oldest first. */
  readonly stderrTail: readonly string[];

  constructor(summary: string, details: PluginErrorDetails) {
    super(renderMessage(summary, details), details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "PluginError";
    this.plugin = details.plugin;
    this.phase = details.phase;
    this.timeoutMs = details.timeoutMs;
    this.exitCode = details.exitCode;
    this.signal = details.signal;
    this.stderrTail = details.stderrTail ?? [];
  }
}

function renderMessage(summary: string, d: PluginErrorDetails): string {
  const facts: string[] = [];
  if (d.timeoutMs !== undefined) facts.push(`timeout ${d.timeoutMs} ms`);
  if (d.exitCode !== undefined) facts.push(`exit code ${d.exitCode}`);
  if (d.signal !== undefined) facts.push(`killed by ${d.signal}`);
  let message = `plugin ${JSON.stringify(d.plugin)} failed during ${d.phase}: ${summary}`;
  if (facts.length > 0) message += ` (${facts.join(", ")})`;
  const tail = d.stderrTail ?? [];
  message +=
    tail.length > 0
      ? `\nlast ${tail.length} line(s) of its stderr:\n${tail.map((l) => `  | ${l}`).join("\n")}`
      : "\nit wrote nothing to stderr";
  return message;
}
