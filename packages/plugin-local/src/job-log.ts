/**
 * The log of one local job: every line the process wrote, in arrival order,
 * each with a cursor so a reader can follow the job while it runs and resume
 * where it stopped.
 *
 * Why the log spills to disk instead of slowing the job down: a reader that
 * falls behind (a slow terminal, a follower that lost its stream and comes
 * back with a cursor, `flotilla jobs logs` an hour later) must still get
 * every line, and the job must not wait for its readers. Backpressure on the
 * job's pipe would make a job's speed, and its timeout, depend on who
 * watches it, and a follower that disconnected would still lose what was
 * written meanwhile. A container runtime and a cloud log backend do the
 * same: the job writes at its own pace into a store, readers read from it.
 * So every line goes to the job's log file ({@link LogFile}), memory keeps a
 * window of recent lines (bounded by count and by bytes) for followers that
 * keep up, and a reader behind the window reads from the file. Only when a
 * line is in neither place (no file, or the disk failed) does a reader get a
 * SYSTEM line saying how many lines it missed, never a silent gap.
 */
import { LogStream } from "@flotilla/protocol";
import type { LogFile, StoredLine } from "./log-file.js";

/** One line (or piece of an over-long line) of a job's output. */
export interface JobLogEntry {
  /** Which output the line came from. */
  stream: LogStream;
  /** The line's text without its newline (or this piece of it). */
  text: string;
  /** When the plugin read the line. */
  time: Date;
  /** Opaque position just after this line: pass it back to resume after it. */
  cursor: string;
  /** A piece of an over-long line: the line goes on in the next entry of the same stream. */
  continues: boolean;
}

/** What {@link JobLog.read} returns: the lines after a cursor and whether more can come. */
export interface JobLogSlice {
  /** Lines after the cursor, oldest first. */
  lines: JobLogEntry[];
  /** True once the log is closed and nothing follows the cursor (`lines` is then empty). */
  ended: boolean;
}

/** The limits of one batch of lines ({@link JobLog.read}, {@link JobLog.stream}). */
export interface BatchLimits {
  /** Most bytes of text (plus a per-line allowance for the message's other fields); at least one line is returned. */
  maxBytes: number;
  /** Most lines. */
  maxLines: number;
}

/**
 * The batch a JobLogsResponse carries: about 64 KiB (one piece of the longest
 * line, the LineSplitter's 64 KiB cap, when lines are that long), far below
 * gRPC's 16 MiB message limit whatever the job writes. Small batches keep
 * what each side holds in flight small: grpc-js queues up to 16 messages per
 * stream on each side, and a flood measured no faster with 1 MiB batches.
 */
export const DEFAULT_BATCH_LIMITS: BatchLimits = { maxBytes: 64 * 1024, maxLines: 16_384 };

/** Bytes a LogLine costs beyond its text (stream, timestamp, cursor, tags), counted against a batch's limit. */
const LINE_OVERHEAD_BYTES = 40;

/** How often a follower looks at a log file another process writes (a job supervised elsewhere). */
export const DEFAULT_TAIL_POLL_MS = 100;

/** Bytes of recent lines kept in memory per job by default; older lines are read from the log file. */
export const DEFAULT_WINDOW_BYTES = 1024 * 1024;

/** How a JobLog keeps its lines. */
export interface JobLogOptions {
  /** Most lines kept in memory (default 100 000). */
  maxLines?: number;
  /** Most bytes of text kept in memory (default {@link DEFAULT_WINDOW_BYTES}). */
  maxBytes?: number;
  /** Where every line is kept; without it, lines that leave the memory window are gone. */
  file?: LogFile;
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

interface WindowEntry extends JobLogEntry {
  /** UTF-8 bytes of the text. */
  bytes: number;
}

/**
 * An append-only log with cursors, a bounded window in memory and (given a
 * {@link LogFile}) everything on disk.
 *
 * The cursor of a line is the count of lines up to and including it, as a
 * decimal string ("1" after the first line); a piece of an over-long line
 * counts as a line. Counting lines keeps cursors valid across plugin
 * processes (line n of the log file has cursor n+1) and exact when lines
 * were lost.
 */
export class JobLog {
  /** The memory window, oldest first, from index #head on (entries before it were evicted). */
  private window: WindowEntry[] = [];
  private head = 0;
  private windowBytes = 0;
  /** Lines ever appended. */
  private total = 0;
  private closed = false;
  private waiters: Array<() => void> = [];
  private readonly maxLines: number;
  private readonly maxBytes: number;
  private file: LogFile | undefined;
  /** Opens (and scans) a recorded log's file; set by {@link JobLog.recorded}, run on the first read only. */
  private openFile: (() => Promise<LogFile>) | undefined;
  private opened: Promise<void> | undefined;
  /** A recorded log another process still writes: true while it does ({@link JobLog.recorded}'s `writtenElsewhere`). */
  private stillWriting: (() => boolean) | undefined;
  private pollMs = DEFAULT_TAIL_POLL_MS;

  constructor(options: JobLogOptions = {}) {
    this.maxLines = options.maxLines ?? 100_000;
    this.maxBytes = options.maxBytes ?? DEFAULT_WINDOW_BYTES;
    this.file = options.file;
  }

  /**
   * A log read from a job record's log file, opened (and scanned) on first read. Closed, unless another
   * process still writes it (`writtenElsewhere.stillWriting()` true: the job runs under another plugin or its
   * supervisor): then a follower gets the lines as they are appended, the file looked at every `pollMs`, until
   * the writer is done and the file read to its end.
   */
  static recorded(
    openFile: () => Promise<LogFile>,
    writtenElsewhere?: { stillWriting: () => boolean; pollMs?: number },
  ): JobLog {
    const log = new JobLog({ maxLines: 0 });
    log.openFile = openFile;
    if (writtenElsewhere?.stillWriting()) {
      log.stillWriting = writtenElsewhere.stillWriting;
      log.pollMs = writtenElsewhere.pollMs ?? DEFAULT_TAIL_POLL_MS;
    } else log.closed = true;
    return log;
  }

  /** Waits until a recorded log's file is open: not before a reader needs it (a status call never scans the file). */
  private ready(): Promise<void> {
    const open = this.openFile;
    if (!open) return Promise.resolve();
    this.opened ??= open().then((file) => {
      this.file = file;
      this.total = file.lines;
    });
    return this.opened;
  }

  /** Appends a line (or a piece of one, `continues`); ignored once the log is closed. */
  append(stream: LogStream, text: string, time: Date = new Date(), continues = false): JobLogEntry | undefined {
    if (this.closed) return undefined;
    this.total += 1;
    const entry: WindowEntry = {
      stream,
      text,
      time,
      cursor: String(this.total),
      continues,
      bytes: Buffer.byteLength(text),
    };
    this.file?.append(stream, text, time, continues);
    this.window.push(entry);
    this.windowBytes += entry.bytes;
    while (this.window.length - this.head > this.maxLines || this.windowBytes > this.maxBytes) {
      const evicted = this.window[this.head] as WindowEntry;
      this.windowBytes -= evicted.bytes;
      this.head += 1;
    }
    // Drop evicted slots now and then: amortised O(1) per line, never a shift of the whole window per line.
    if (this.head > 1024 && this.head * 2 > this.window.length) {
      this.window = this.window.slice(this.head);
      this.head = 0;
    }
    this.wake();
    return entry;
  }

  /** Marks the log complete: no line follows, waiting readers return, the log file is written out. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.file?.close();
    this.wake();
  }

  /** Writes pending lines to the log file now (e.g. from the process's exit hook). */
  flush(): void {
    this.file?.flush();
  }

  /** Lets go of the log file (a spool file's lines are gone); for a job the plugin forgets. */
  dispose(): void {
    this.close();
    this.file?.dispose();
  }

  /** True once {@link close} was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Total lines ever appended, in memory, on disk or lost. */
  get length(): number {
    return this.total;
  }

  /** Line number (0-based) of the first line still in memory. */
  private get firstInWindow(): number {
    return this.total - (this.window.length - this.head);
  }

  /**
   * Lines after `cursor` ("" for the beginning) as they are now, without
   * waiting: from memory, or from the log file for lines that left the
   * window; at most one batch (`limits`).
   */
  async read(cursor: string, limits: BatchLimits = DEFAULT_BATCH_LIMITS): Promise<JobLogSlice> {
    await this.ready();
    return this.readAfter(this.parseCursor(cursor), limits);
  }

  private async readAfter(after: number, limits: BatchLimits): Promise<JobLogSlice> {
    const first = this.firstInWindow;
    if (after >= first) return { lines: this.fromWindow(after, limits), ended: this.closed && after >= this.total };
    const file = this.file;
    let why = `the local provider keeps the last ${this.maxLines} lines of a job in memory and this job has no log file`;
    if (file) {
      try {
        const stored = await file.read(after, {
          maxBytes: limits.maxBytes,
          maxLines: Math.min(limits.maxLines, this.total - after),
        });
        if (stored.length > 0) return { lines: stored.map((line, i) => toEntry(line, after + i + 1)), ended: false };
        why = `the job's log file could not be written${file.failure ? ` (${file.failure.message})` : ""}`;
      } catch (err) {
        why = `the job's log file could not be read (${err instanceof Error ? err.message : String(err)})`;
      }
    }
    // Lines in neither place: say how many, and go on with the memory window.
    const resume = this.firstInWindow;
    const note: JobLogEntry = {
      stream: LogStream.SYSTEM,
      text: `[flotilla] ${resume - after} earlier line(s) were dropped: ${why}`,
      time: new Date(),
      cursor: String(resume),
      continues: false,
    };
    return { lines: [note], ended: false };
  }

  private fromWindow(after: number, limits: BatchLimits): JobLogEntry[] {
    const lines: JobLogEntry[] = [];
    let bytes = 0;
    const end = this.window.length;
    for (let i = this.head + (after - this.firstInWindow); i < end && lines.length < limits.maxLines; i++) {
      const entry = this.window[i] as WindowEntry;
      if (lines.length > 0 && bytes + entry.bytes + LINE_OVERHEAD_BYTES > limits.maxBytes) break;
      bytes += entry.bytes + LINE_OVERHEAD_BYTES;
      lines.push({
        stream: entry.stream,
        text: entry.text,
        time: entry.time,
        cursor: entry.cursor,
        continues: entry.continues,
      });
    }
    return lines;
  }

  /**
   * Resolves once a line after `cursor` exists, the log closes, or `signal`
   * aborts — whichever comes first. Never rejects.
   */
  async waitForMore(cursor: string, signal?: AbortSignal): Promise<void> {
    await this.ready();
    return this.waitAfter(this.parseCursor(cursor), signal);
  }

  private waitAfter(after: number, signal?: AbortSignal): Promise<void> {
    if (this.closed || this.total > after || signal?.aborted) return Promise.resolve();
    if (this.stillWriting) return this.tailAfter(after, signal);
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
   * Yields batches of lines after `cursor`, each within `limits`. Without
   * `follow` it stops at the end the log had when the stream started; with
   * it, it keeps waiting until the log is closed and drained (or `signal`
   * aborts). It reads a batch only when the caller asks for the next one, so
   * a slow caller holds one batch, however far behind it is.
   */
  async *stream(
    cursor: string,
    follow: boolean,
    signal?: AbortSignal,
    limits: BatchLimits = DEFAULT_BATCH_LIMITS,
  ): AsyncGenerator<JobLogEntry[]> {
    await this.ready();
    let position = this.parseCursor(cursor);
    const end = follow ? Number.POSITIVE_INFINITY : this.total;
    for (;;) {
      if (signal?.aborted || position >= end) return;
      const slice = await this.readAfter(position, {
        maxBytes: limits.maxBytes,
        maxLines: Math.min(limits.maxLines, end - position),
      });
      if (slice.lines.length > 0) {
        position = Number((slice.lines.at(-1) as JobLogEntry).cursor);
        yield slice.lines;
        continue;
      }
      if (!follow || slice.ended) return;
      await this.waitAfter(position, signal);
    }
  }

  /** Waits for another process to append a line after `after`, or to finish writing the file. */
  private async tailAfter(after: number, signal?: AbortSignal): Promise<void> {
    const file = this.file as LogFile;
    const stillWriting = this.stillWriting as () => boolean;
    while (!signal?.aborted) {
      // Asked before the file is read: a writer that is done has written its last line by then.
      const writing = stillWriting();
      this.total = await file.refresh();
      if (!writing) {
        this.closed = true;
        this.stillWriting = undefined;
        this.wake();
        return;
      }
      if (this.total > after) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, this.pollMs);
        function done(): void {
          clearTimeout(timer);
          signal?.removeEventListener("abort", done);
          resolve();
        }
        signal?.addEventListener("abort", done, { once: true });
      });
    }
  }

  private parseCursor(cursor: string): number {
    if (cursor === "") return 0;
    if (!/^\d+$/.test(cursor)) throw new InvalidCursorError(cursor, "it is not a line count");
    const value = Number(cursor);
    if (value > this.total) {
      throw new InvalidCursorError(cursor, `this job has only written ${this.total} line(s) so far`);
    }
    return value;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

function toEntry(line: StoredLine, cursor: number): JobLogEntry {
  return { stream: line.stream, text: line.text, time: line.time, cursor: String(cursor), continues: line.continues };
}
