/**
 * How a journal stores a batch of log lines: one chunk, a JSON array of
 * `[stream, text]` (and `1` third for a piece of an over-long line that goes
 * on), stream as a number (stdout 0, stderr 1, system 2). One row per batch,
 * not per line: a row per line made a flooding job's journal ten times the
 * size of its output and its writes the follower's bottleneck. Both journals
 * (SQLite, PostgreSQL) store and read chunks through this file.
 */
import type { JournalLogLine, JournalLogStream, NewJournalLogLine } from "./journal.js";

const STREAM_CODES: Record<JournalLogStream, number> = { stdout: 0, stderr: 1, system: 2 };
const STREAMS: readonly JournalLogStream[] = ["stdout", "stderr", "system"];

/** The chunk that stores `lines`. */
export function encodeChunk(lines: readonly NewJournalLogLine[]): string {
  return JSON.stringify(
    lines.map((line) =>
      line.continues ? [STREAM_CODES[line.stream], line.text, 1] : [STREAM_CODES[line.stream], line.text],
    ),
  );
}

/**
 * Appends to `out` the lines of a chunk whose first line is `firstSeq`, stored at `time`, that come after
 * `afterSeq`, until `out` holds `limit` lines.
 */
export function decodeChunk(
  chunk: string,
  firstSeq: number,
  time: Date,
  afterSeq: number,
  limit: number,
  out: JournalLogLine[],
): void {
  const lines = JSON.parse(chunk) as Array<[number, string, 1?]>;
  for (let i = Math.max(0, afterSeq + 1 - firstSeq); i < lines.length && out.length < limit; i++) {
    const [stream, text, continues] = lines[i] as [number, string, 1?];
    out.push({ seq: firstSeq + i, stream: STREAMS[stream] ?? "system", text, continues: continues === 1, time });
  }
}
