/**
 * The lines the log-latency writer prints: a sequence number and the wall
 * clock, in microseconds, at the moment the line was written. The reader
 * subtracts that stamp from its own wall clock when the line reaches it. Both
 * processes run on the same machine, so they read the same clock.
 */

/**
 * Wall-clock time in microseconds with sub-millisecond resolution.
 * `Date.now()` only has milliseconds; `performance.timeOrigin` is the wall
 * clock at process start and `performance.now()` the monotonic time since,
 * so their sum is a high-resolution wall clock comparable across processes.
 */
export function wallClockMicros(): number {
  return (performance.timeOrigin + performance.now()) * 1000;
}

/** One parsed stamped line. */
export interface StampedLine {
  /** 0-based position of the line in the writer's output. */
  readonly seq: number;
  /** Wall clock when the writer wrote it, µs. */
  readonly writtenMicros: number;
}

const PREFIX = "flotilla-log-latency";

/** The text of line `seq` stamped `writtenMicros` (without its newline). */
export function formatStampedLine(seq: number, writtenMicros: number): string {
  return `${PREFIX} ${seq} ${Math.round(writtenMicros)}`;
}

/**
 * Parses a line printed by {@link formatStampedLine}; undefined for any other
 * text, so lines a provider adds about the job (e.g. SYSTEM lines) are skipped
 * rather than mistaken for samples.
 */
export function parseStampedLine(text: string): StampedLine | undefined {
  const match = /^flotilla-log-latency (\d+) (\d+)$/.exec(text);
  if (!match) return undefined;
  return { seq: Number(match[1]), writtenMicros: Number(match[2]) };
}
