/**
 * Joins the pieces of over-long log lines (LogLine.continues in the
 * contract) back into lines, per stream, up to a bound: a reader holds at
 * most {@link MAX_JOINED_LINE_BYTES} of one line per stream in memory.
 *
 * Why a bound: a job may write a line of any length (a 20 MB JSON document
 * without a newline), and no process on the way should have to hold all of
 * it. Up to the bound, a caller's onLog gets whole lines, as it always did.
 * Beyond it, the line is passed on in pieces as they come, each flagged
 * `continues: true` except the last, so a caller writing to a stream (the
 * CLI's stdout) still writes the whole line, with one newline at its end,
 * without holding it. 1 MiB is far above any line a person reads and far
 * below what would strain memory.
 */
import type { LogLine, LogStream } from "./sandbox-runner.js";

/** Most bytes of one line a joiner holds per stream; longer lines are passed on in pieces. */
export const MAX_JOINED_LINE_BYTES = 1024 * 1024;

interface Partial {
  texts: string[];
  bytes: number;
  /** True once pieces of this line were passed on: the rest follows as pieces too. */
  passing: boolean;
}

/** Turns the pieces of a provider's log into lines (or, past the bound, flagged pieces). */
export class LogLineJoiner {
  readonly #maxBytes: number;
  readonly #partial = new Map<LogStream, Partial>();

  constructor(maxBytes: number = MAX_JOINED_LINE_BYTES) {
    this.#maxBytes = maxBytes;
  }

  /** Takes one LogLine of the provider's (text, and whether the line goes on); returns what to deliver now. */
  push(stream: LogStream, text: string, continues: boolean): LogLine[] {
    let partial = this.#partial.get(stream);
    if (!partial) {
      if (!continues) return [{ stream, text }];
      partial = { texts: [], bytes: 0, passing: false };
      this.#partial.set(stream, partial);
    }
    if (partial.passing) {
      if (!continues) this.#partial.delete(stream);
      return [piece(stream, text, continues)];
    }
    const bytes = partial.bytes + Buffer.byteLength(text);
    if (bytes <= this.#maxBytes) {
      partial.texts.push(text);
      partial.bytes = bytes;
      if (continues) return [];
      this.#partial.delete(stream);
      return [{ stream, text: partial.texts.join("") }];
    }
    // Past the bound: what was held goes out as a piece, and so does everything after it, as it comes.
    const held = partial.texts.join("");
    partial.texts = [];
    partial.bytes = 0;
    partial.passing = true;
    if (!continues) this.#partial.delete(stream);
    return held === "" ? [piece(stream, text, continues)] : [piece(stream, held, true), piece(stream, text, continues)];
  }

  /** Ends every line still open (a log that ended mid-line): what was held is delivered as the line's end. */
  flush(): LogLine[] {
    const out: LogLine[] = [];
    for (const [stream, partial] of this.#partial) {
      out.push(
        partial.passing ? piece(stream, partial.texts.join(""), false) : { stream, text: partial.texts.join("") },
      );
    }
    this.#partial.clear();
    return out;
  }
}

function piece(stream: LogStream, text: string, continues: boolean): LogLine {
  return continues ? { stream, text, continues: true } : { stream, text };
}
