/**
 * The log of one local job: every line the process wrote, in arrival order,
 * each with a cursor so a reader can follow the job while it runs and resume
 * where it stopped.
 */
import { LogStream } from "@flotilla/protocol";

/** One stored line of a job's output. */
export interface JobLogEntry {
  /** Which output the line came from. */
  stream: LogStream;
  /** The line's text without its newline. */
  text: string;
  /** When the plugin read the line. */
  time: Date;
  /** Opaque position just after this line: pass it back to resume after it. */
  cursor: string;
}

/** What {@link JobLog.read} returns: the lines after a cursor and whether more can come. */
export interface JobLogSlice {
  /** Lines after the cursor, oldest first. */
  lines: JobLogEntry[];
  /** True once the log is closed and these are the last lines. */
  ended: boolean;
}

/**
 * Why a cursor was refused. The message names the cursor and what a valid
 * one looks like, so a caller who mixed up jobs knows what to do.
 */
export class InvalidCursorError extends Error {
  constructor(cursor: string, why: string) {
    super(
      `log cursor ${JSON.stringify(cursor)} is not valid: ${why}; pass a LogLine.cursor of this job, or "" to start at the beginning`,
    );
    this.name = "InvalidCursorError";
  }
}

/**
 * An append-only, in-memory log with cursors.
 *
 * The cursor of a line is the count of lines up to and including it, as a
 * decimal string ("1" after the first line). Counting lines rather than bytes
 * keeps resuming exact even when a line was dropped from the front: lines
 * beyond `maxLines` are evicted oldest first (so a chatty job cannot eat the
 * plugin's memory), and a reader that resumes before the first kept line
 * gets a SYSTEM line saying how many lines it missed.
 */
export class JobLog {
  private readonly entries: JobLogEntry[] = [];
  /** How many lines were evicted from the front. */
  private dropped = 0;
  private closed = false;
  private waiters: Array<() => void> = [];

  constructor(
    private readonly maxLines = 100_000,
    /** Called with every line appended (e.g. to persist it). */
    private readonly onAppend?: (entry: JobLogEntry) => void,
  ) {}

  /** Appends a line; ignored once the log is closed. */
  append(stream: LogStream, text: string, time: Date = new Date()): JobLogEntry | undefined {
    if (this.closed) return undefined;
    const entry: JobLogEntry = { stream, text, time, cursor: String(this.dropped + this.entries.length + 1) };
    this.entries.push(entry);
    if (this.entries.length > this.maxLines) {
      this.entries.shift();
      this.dropped += 1;
    }
    this.onAppend?.(entry);
    this.wake();
    return entry;
  }

  /** Marks the log complete: no line follows, and waiting readers return. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.wake();
  }

  /** True once {@link close} was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Total lines ever appended, kept or evicted. */
  get length(): number {
    return this.dropped + this.entries.length;
  }

  /** Lines after `cursor` ("" for the beginning) as they are now, without waiting. */
  read(cursor: string): JobLogSlice {
    const after = this.parseCursor(cursor);
    const lines: JobLogEntry[] = [];
    if (after < this.dropped) {
      const missed = this.dropped - after;
      lines.push({
        stream: LogStream.SYSTEM,
        text: `[flotilla] ${missed} earlier line(s) were dropped: the local provider keeps the last ${this.maxLines} lines of a job`,
        time: new Date(),
        cursor: String(this.dropped),
      });
    }
    lines.push(...this.entries.slice(Math.max(0, after - this.dropped)));
    return { lines, ended: this.closed };
  }

  /**
   * Resolves once a line after `cursor` exists, the log closes, or `signal`
   * aborts — whichever comes first. Never rejects.
   */
  waitForMore(cursor: string, signal?: AbortSignal): Promise<void> {
    const after = this.parseCursor(cursor);
    if (this.closed || this.length > after || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal?.removeEventListener("abort", done);
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      };
      this.waiters.push(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  /**
   * Yields batches of lines after `cursor`. Without `follow` it stops at the
   * current end; with it, it keeps waiting until the log is closed and drained
   * (or `signal` aborts).
   */
  async *stream(cursor: string, follow: boolean, signal?: AbortSignal): AsyncGenerator<JobLogEntry[]> {
    let position = cursor;
    this.parseCursor(position);
    for (;;) {
      if (signal?.aborted) return;
      const slice = this.read(position);
      if (slice.lines.length > 0) {
        position = (slice.lines.at(-1) as JobLogEntry).cursor;
        yield slice.lines;
      }
      if (!follow || slice.ended) return;
      await this.waitForMore(position, signal);
    }
  }

  private parseCursor(cursor: string): number {
    if (cursor === "") return 0;
    if (!/^\d+$/.test(cursor)) throw new InvalidCursorError(cursor, "it is not a line count");
    const value = Number(cursor);
    if (value > this.length) {
      throw new InvalidCursorError(cursor, `this job has only written ${this.length} line(s) so far`);
    }
    return value;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
