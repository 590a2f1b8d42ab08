/**
 * A job's log on disk: every line the job wrote, so a reader that fell behind
 * (or comes back later, or runs in a later plugin process) reads it from here
 * while the plugin keeps only a bounded window of recent lines in memory.
 *
 * The format is the job record's `log.jsonl`: one JSON object per line,
 * `{"s":stream,"t":text,"at":epochMs}`, plus `"c":1` on a piece of an
 * over-long line that continues in the next piece of its stream. Line n of
 * the file (0-based) is the log line whose cursor is n+1, so a cursor
 * survives the plugin process.
 *
 * Writes are batched (one synchronous write per 64 KiB or 20 ms, and before
 * any read) and stay synchronous because the last ones happen from the
 * process's `exit` event. A write that fails (disk full, file gone) stops the
 * file: the lines before it stay readable, later lines live only in memory,
 * and the plugin goes on. Reading seeks through a sparse index (a line
 * number and byte offset every 1024 lines or 1 MiB) and reads forward in
 * 64 KiB chunks into one reused buffer, so memory stays bounded however long
 * the log is.
 */
import { closeSync, fstatSync, openSync, read as readCallback, unlinkSync, writeSync } from "node:fs";
import { open } from "node:fs/promises";
import { promisify } from "node:util";
import { LogStream } from "@flotilla/protocol";

/** One line as read back from the file. */
export interface StoredLine {
  stream: LogStream;
  text: string;
  time: Date;
  /** A piece of a longer line that goes on in the next piece of its stream. */
  continues: boolean;
  /** Bytes of its record in the file: what reading it costs. */
  bytes: number;
}

/** Mode of a log file: only its owner may read it (it holds job output, secrets included). */
export const LOG_FILE_MODE = 0o600;
const INDEX_EVERY_LINES = 1024;
const INDEX_EVERY_BYTES = 1024 * 1024;
const FLUSH_BYTES = 64 * 1024;
const FLUSH_DELAY_MS = 20;
const READ_CHUNK_BYTES = 64 * 1024;
const NEWLINE = 0x0a;
const read = promisify(readCallback);

/** The limits of one {@link LogFile.read}. */
export interface ReadLimits {
  /** Stop once the lines read hold this many bytes (at least one line is read). */
  maxBytes: number;
  /** Stop after this many lines. */
  maxLines: number;
}

/** A job's append-only log file with a sparse line index. */
export class LogFile {
  /** Write descriptor; undefined once closed, or for a file opened only to read. */
  #fd: number | undefined;
  /** For an unlinked spool file: the only way back to its bytes, kept until {@link dispose}. */
  #keepFd: number | undefined;
  #pending: string[] = [];
  #pendingBytes = 0;
  #pendingLines = 0;
  /** Complete lines on disk. */
  #lines = 0;
  /** Bytes of those lines (where the next line starts). */
  #bytes = 0;
  /** Sparse index: line number → byte offset where that line starts; always starts at line 0. */
  readonly #indexLines: number[] = [0];
  readonly #indexOffsets: number[] = [0];
  /** Where the last read stopped, so a reader moving forward does not rescan from an index point. */
  #hint = { line: 0, offset: 0 };
  #failure: Error | undefined;
  #timer: NodeJS.Timeout | undefined;
  #readsInFlight = 0;
  #disposed = false;
  /** The read buffer, kept between reads (taken by a read in progress). */
  #scratch: Buffer | undefined;

  private constructor(
    /** The file's path (a spool file no longer has one on disk). */
    readonly path: string,
  ) {}

  /**
   * A new log file to write. `spool`: the file is unlinked at once and lives
   * only as long as this object (until {@link dispose} or the process ends),
   * for a plugin without a state_dir: nothing is left behind, even after a SIGKILL.
   */
  static create(path: string, options: { spool?: boolean } = {}): LogFile {
    const file = new LogFile(path);
    // A spool file goes in a shared directory (the system's temp dir): "wx+" refuses a name that exists
    // (or a symlink planted there) instead of writing through it.
    file.#fd = openSync(path, options.spool ? "wx+" : "a", LOG_FILE_MODE);
    file.#bytes = fstatSync(file.#fd).size;
    file.#indexOffsets[0] = file.#bytes;
    file.#hint = { line: 0, offset: file.#bytes };
    if (options.spool) {
      unlinkSync(path);
      file.#keepFd = file.#fd;
    }
    return file;
  }

  /**
   * An existing log file (a job record), to read: scans it once, in chunks, to
   * count its lines and build the index. A last line cut short (no newline:
   * the writer died mid-write, or is writing it now) is not counted. A missing
   * file is an empty log.
   */
  static async open(path: string): Promise<LogFile> {
    const file = new LogFile(path);
    await file.refresh();
    return file;
  }

  /**
   * A file opened to read ({@link open}) whose writer is another process: counts the complete lines it
   * appended since the last scan (a line still being written is counted once its newline is there).
   * Returns the number of complete lines.
   */
  async refresh(): Promise<number> {
    if (this.#fd !== undefined || this.#keepFd !== undefined) return this.lines; // Written here: always current.
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(this.path, "r");
    } catch {
      return this.#lines; // A job that wrote nothing (yet) has no log file.
    }
    try {
      const chunk = this.#scratch ?? Buffer.allocUnsafe(READ_CHUNK_BYTES);
      this.#scratch = undefined;
      let position = this.#bytes;
      for (;;) {
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
        if (bytesRead === 0) break;
        let newline = chunk.indexOf(NEWLINE, 0);
        while (newline !== -1 && newline < bytesRead) {
          this.#lineWritten(position + newline + 1 - this.#bytes);
          newline = chunk.indexOf(NEWLINE, newline + 1);
        }
        position += bytesRead;
      }
      if (!this.#disposed) this.#scratch = chunk;
    } finally {
      await handle.close();
    }
    return this.#lines;
  }

  /** Complete lines readable from the file (written, or waiting to be written). */
  get lines(): number {
    return this.#lines + this.#pendingLines;
  }

  /** Why the file stopped taking lines, if it did. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** Appends a line (batched); false when the file no longer takes lines (closed or failed). */
  append(stream: LogStream, text: string, time: Date, continues: boolean): boolean {
    if (this.#fd === undefined || this.#failure) return false;
    const record = `${JSON.stringify(continues ? { s: stream, t: text, at: time.getTime(), c: 1 } : { s: stream, t: text, at: time.getTime() })}\n`;
    this.#pending.push(record);
    this.#pendingLines += 1;
    this.#pendingBytes += Buffer.byteLength(record);
    if (this.#pendingBytes >= FLUSH_BYTES) this.flush();
    else if (!this.#timer) {
      // Unref'd: pending lines never keep a process alive; close() and the exit hook flush them.
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.flush();
      }, FLUSH_DELAY_MS);
      this.#timer.unref();
    }
    return true;
  }

  /** Writes the pending lines now. Never throws: a failed write stops the file (see {@link failure}). */
  flush(): void {
    if (this.#pendingLines === 0 || this.#fd === undefined) return;
    const records = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#pendingLines = 0;
    const data = Buffer.from(records.join(""));
    try {
      let written = 0;
      while (written < data.length) written += writeSync(this.#fd, data, written, data.length - written);
    } catch (err) {
      // A full or vanished disk must not crash the plugin: the lines already on disk stay readable,
      // the job and its in-memory window go on, and a reader is told what could not be kept.
      this.#failure = err instanceof Error ? err : new Error(String(err));
      return;
    }
    for (const record of records) this.#lineWritten(Buffer.byteLength(record));
  }

  /** Writes what is pending and lets go of the write descriptor; the lines stay readable. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.flush();
    if (this.#fd !== undefined && this.#fd !== this.#keepFd) closeSync(this.#fd);
    this.#fd = undefined;
  }

  /** Closes everything; a spool file's bytes are gone after this. */
  dispose(): void {
    this.close();
    this.#disposed = true;
    this.#scratch = undefined;
    if (this.#keepFd !== undefined && this.#readsInFlight === 0) {
      closeSync(this.#keepFd);
      this.#keepFd = undefined;
    }
  }

  /**
   * Reads lines from line `from` (0-based; the line whose cursor is from+1)
   * on, within `limits`; fewer (or none) at the end of the file.
   */
  async read(from: number, limits: ReadLimits): Promise<StoredLine[]> {
    this.flush();
    const end = this.#lines;
    if (from >= end || this.#disposed) return [];
    const start =
      this.#hint.line <= from && this.#hint.line >= this.#indexPoint(from).line ? this.#hint : this.#indexPoint(from);
    this.#readsInFlight += 1;
    let handle: Awaited<ReturnType<typeof open>> | undefined;
    try {
      if (this.#keepFd === undefined) handle = await open(this.path, "r");
      const fd = this.#keepFd ?? (handle as Awaited<ReturnType<typeof open>>).fd;
      const out: StoredLine[] = [];
      let outBytes = 0;
      let line = start.line;
      let offset = start.offset;
      let position = start.offset;
      let stopped = false;
      const full = () => stopped || line >= end || out.length >= limits.maxLines;
      // One scratch buffer per file, reused from read to read: a reader of a long log allocates no buffer per
      // batch (Node frees a Buffer's memory only when the GC collects it, so a fresh one per read inflated RSS).
      let buffer = this.#scratch ?? Buffer.allocUnsafe(READ_CHUNK_BYTES);
      this.#scratch = undefined;
      let filled = 0;
      while (!full()) {
        // A record longer than the buffer (a 64 KiB piece, JSON-escaped) grows it for this read.
        if (filled === buffer.length) {
          const bigger = Buffer.allocUnsafe(buffer.length * 2);
          buffer.copy(bigger, 0, 0, filled);
          buffer = bigger;
        }
        const { bytesRead } = await read(fd, buffer, filled, buffer.length - filled, position);
        if (bytesRead === 0) break;
        position += bytesRead;
        const scanFrom = filled;
        filled += bytesRead;
        let lineStart = 0;
        for (
          let newline = buffer.indexOf(NEWLINE, scanFrom);
          newline !== -1 && newline < filled;
          newline = buffer.indexOf(NEWLINE, lineStart)
        ) {
          const size = newline + 1 - lineStart;
          if (line >= from) {
            // The batch is full when the next record would pass maxBytes (the first is taken whatever its size).
            if (out.length > 0 && outBytes + size > limits.maxBytes) {
              stopped = true;
              break;
            }
            out.push(parseRecord(buffer, lineStart, newline, size));
            outBytes += size;
          }
          line += 1;
          offset += size;
          lineStart = newline + 1;
          if (full()) break;
        }
        // Keep the start of a record the read cut off, at the front.
        buffer.copyWithin(0, lineStart, filled);
        filled -= lineStart;
      }
      if (buffer.length === READ_CHUNK_BYTES) this.#scratch = buffer;
      this.#hint = { line, offset };
      return out;
    } finally {
      await handle?.close();
      this.#readsInFlight -= 1;
      if (this.#disposed && this.#readsInFlight === 0 && this.#keepFd !== undefined) {
        closeSync(this.#keepFd);
        this.#keepFd = undefined;
      }
    }
  }

  /** The last index point at or before `line`. */
  #indexPoint(line: number): { line: number; offset: number } {
    let low = 0;
    let high = this.#indexLines.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((this.#indexLines[mid] as number) <= line) low = mid;
      else high = mid - 1;
    }
    return { line: this.#indexLines[low] as number, offset: this.#indexOffsets[low] as number };
  }

  /** Counts one more complete line of `size` bytes on disk, and indexes where the next one starts when due. */
  #lineWritten(size: number): void {
    this.#lines += 1;
    this.#bytes += size;
    const lastLine = this.#indexLines[this.#indexLines.length - 1] as number;
    const lastOffset = this.#indexOffsets[this.#indexOffsets.length - 1] as number;
    if (this.#lines - lastLine >= INDEX_EVERY_LINES || this.#bytes - lastOffset >= INDEX_EVERY_BYTES) {
      this.#indexLines.push(this.#lines);
      this.#indexOffsets.push(this.#bytes);
    }
  }
}

/** One record of the file; a damaged one (not JSON, wrong shape) becomes a SYSTEM line saying so, keeping the numbering. */
function parseRecord(data: Buffer, start: number, newline: number, bytes: number): StoredLine {
  try {
    const { s, t, at, c } = JSON.parse(data.toString("utf8", start, newline)) as {
      s: LogStream;
      t: string;
      at: number;
      c?: number;
    };
    if (typeof t === "string" && typeof s === "number" && typeof at === "number") {
      return { stream: s, text: t, time: new Date(at), continues: c === 1, bytes };
    }
  } catch {
    // fall through
  }
  return {
    stream: LogStream.SYSTEM,
    text: "[flotilla] a damaged record of this job's log file was skipped",
    time: new Date(0),
    continues: false,
    bytes,
  };
}
