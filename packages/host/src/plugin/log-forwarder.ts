/**
 * Turns a plugin's stderr, its stdout after the handshake and its
 * GRPCStdio chunks into structured records for the host's sink, masking
 * secret values and keeping the stderr tail for error messages.
 */
import { LineSplitter } from "@flotilla/process";
import { type PluginLogSink, type PluginLogSource, parsePluginLogLine, redact } from "./log-record.js";
import type { StderrTail } from "./stderr-tail.js";

/** One plugin's forwarder; `input(source)` gives the function to feed chunks of that source. */
export class LogForwarder {
  private readonly splitters = new Map<PluginLogSource, LineSplitter>();

  constructor(
    private readonly plugin: string,
    private readonly sink: PluginLogSink,
    private readonly tail: StderrTail,
    private readonly secrets: readonly string[],
  ) {}

  /** Feeds a chunk of output from `source`. */
  write(source: PluginLogSource, chunk: Uint8Array): void {
    let splitter = this.splitters.get(source);
    if (!splitter) {
      splitter = new LineSplitter((line) => this.line(source, line));
      this.splitters.set(source, splitter);
    }
    splitter.push(chunk);
  }

  /** Emits unterminated lines (call when the process has exited). */
  flush(): void {
    for (const s of this.splitters.values()) s.flush();
  }

  private line(source: PluginLogSource, raw: string): void {
    const line = redact(raw, this.secrets);
    if (source !== "stdout") this.tail.push(line);
    if (line.trim() === "") return;
    const record = redact(parsePluginLogLine(this.plugin, source, line), this.secrets);
    try {
      this.sink(record);
    } catch {
      // A failing sink must not take the plugin's supervision down with it.
    }
  }
}
