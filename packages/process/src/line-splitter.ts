/**
 * Splits a byte stream — a child process's stdout or stderr, a container's log — into text lines,
 * with a cap on how long a line may grow, so a process that never prints a newline cannot grow its
 * reader's memory.
 *
 * It splits the bytes first and decodes whole lines after: the newline byte 0x0A never occurs inside
 * a multi-byte UTF-8 sequence, so a character that a pipe delivers in two chunks is decoded whole,
 * never as two U+FFFD halves (what `chunk.toString()` per chunk does). The same order lets the cap
 * count bytes, which is what memory and a log backend's limits are measured in, and lets a cut fall
 * on a character boundary.
 */

/** The cap when none is given: 64 KiB of UTF-8, far above any log line a person reads. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;

/** The smallest cap: one piece must hold any UTF-8 character (at most 4 bytes), or a cut could not fall between characters. */
export const MIN_MAX_LINE_BYTES = 4;

/**
 * Receives one line, without its "\n" or "\r\n". `continues` is true for a piece of an over-long line cut
 * at the cap: the line goes on in the next call, and the last piece of the line comes with `false`.
 */
export type LineHandler = (line: string, continues: boolean) => void;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * Feed it chunks with {@link LineSplitter.push}; it calls the handler once per complete line, and once per
 * piece of a line longer than the cap (each piece at most `maxLineBytes` bytes of UTF-8, cut between
 * characters). {@link LineSplitter.flush} at the end of the stream delivers a last line that had no newline.
 */
export class LineSplitter {
  readonly #onLine: LineHandler;
  readonly #maxLineBytes: number;
  /** Bytes of the line in progress, kept as the chunks that brought them until a line ends or the cap is passed. */
  #parts: Buffer[] = [];
  #partsBytes = 0;

  /**
   * @param onLine called per line (or piece of an over-long line)
   * @param maxLineBytes the most UTF-8 bytes delivered in one call; at least {@link MIN_MAX_LINE_BYTES}
   */
  constructor(onLine: LineHandler, maxLineBytes: number = DEFAULT_MAX_LINE_BYTES) {
    if (!Number.isInteger(maxLineBytes) || maxLineBytes < MIN_MAX_LINE_BYTES) {
      throw new RangeError(
        `LineSplitter: maxLineBytes must be an integer of at least ${MIN_MAX_LINE_BYTES} (one UTF-8 character), got ${maxLineBytes}`,
      );
    }
    this.#onLine = onLine;
    this.#maxLineBytes = maxLineBytes;
  }

  /** Adds a chunk of the stream; delivers the lines it completes and the pieces that passed the cap. */
  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    // The common case of a line arriving in small chunks: keep them until its end or the cap, copying nothing.
    if (!bytes.includes(NEWLINE) && countedBytes(this.#partsBytes + bytes.length, bytes) <= this.#maxLineBytes) {
      // A copy: the caller may reuse its buffer once push returns.
      this.#parts.push(Buffer.from(bytes));
      this.#partsBytes += bytes.length;
      return;
    }
    const text = this.#parts.length === 0 ? bytes : Buffer.concat([...this.#parts, bytes]);
    let start = 0;
    for (let newline = text.indexOf(NEWLINE); newline !== -1; newline = text.indexOf(NEWLINE, start)) {
      // "\r\n" ends a line as "\n" does: the "\r" is part of the line ending, not of the line.
      const end = newline > start && text[newline - 1] === CARRIAGE_RETURN ? newline - 1 : newline;
      this.#deliver(text, start, end);
      start = newline + 1;
    }
    // What is left has no newline yet; cut off pieces while it is longer than the cap.
    while (countedBytes(text.length - start, text) > this.#maxLineBytes) {
      const cut = characterBoundary(text, start + this.#maxLineBytes, start);
      this.#onLine(text.toString("utf8", start, cut), true);
      start = cut;
    }
    const rest = text.subarray(start);
    this.#parts = rest.length === 0 ? [] : [Buffer.from(rest)];
    this.#partsBytes = rest.length;
  }

  /** Delivers a last line that had no newline, if there is one; call at the end of the stream. */
  flush(): void {
    if (this.#partsBytes === 0) return;
    const text = Buffer.concat(this.#parts);
    this.#parts = [];
    this.#partsBytes = 0;
    // Without a newline after it, a trailing "\r" is not a line ending: it stays in the line, as it was written.
    this.#deliver(text, 0, text.length);
  }

  /** Delivers the line text[start, end), in pieces of at most the cap when it is longer. */
  #deliver(text: Buffer, start: number, end: number): void {
    let from = start;
    while (end - from > this.#maxLineBytes) {
      const cut = characterBoundary(text, from + this.#maxLineBytes, from);
      this.#onLine(text.toString("utf8", from, cut), true);
      from = cut;
    }
    this.#onLine(text.toString("utf8", from, end), false);
  }
}

/**
 * The bytes of an unfinished line that count against the cap: a "\r" at its very end does not, since a "\n"
 * may follow and make it part of a "\r\n" line ending. Without this, a line of exactly the cap written with
 * "\r\n" would be delivered as the line and then an empty extra line.
 */
function countedBytes(length: number, lastChunk: Buffer): number {
  return lastChunk.length > 0 && lastChunk[lastChunk.length - 1] === CARRIAGE_RETURN ? length - 1 : length;
}

/**
 * Where to cut `text` at or before `at` so that no character is split: back over UTF-8 continuation bytes
 * (10xxxxxx) to the first byte of the character `at` falls in. Input that is not UTF-8 (only continuation
 * bytes back to `floor`) is cut at `at`; it decodes to U+FFFD either way.
 */
function characterBoundary(text: Buffer, at: number, floor: number): number {
  let cut = at;
  while (cut > floor && ((text[cut] as number) & 0xc0) === 0x80) cut--;
  return cut === floor ? at : cut;
}
