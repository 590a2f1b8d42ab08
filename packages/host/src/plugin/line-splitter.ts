/**
 * Splits a byte stream into text lines, cutting lines longer than a cap so
 * a plugin that never prints a newline cannot grow host memory.
 */

/** Feeds chunks in, calls `onLine` per complete line; `flush` emits the unterminated rest. */
export class LineSplitter {
  private pending = "";

  constructor(
    private readonly onLine: (line: string) => void,
    /** Longest line passed on whole; longer ones are emitted in pieces of this size. */
    private readonly maxLineLength = 64 * 1024,
  ) {}

  /** Adds a chunk of output. */
  push(chunk: Buffer | string): void {
    this.pending += typeof chunk === "string" ? chunk : chunk.toString("utf8");
    let newline = this.pending.indexOf("\n");
    while (newline !== -1) {
      this.onLine(this.pending.slice(0, newline).replace(/\r$/, ""));
      this.pending = this.pending.slice(newline + 1);
      newline = this.pending.indexOf("\n");
    }
    while (this.pending.length > this.maxLineLength) {
      this.onLine(this.pending.slice(0, this.maxLineLength));
      this.pending = this.pending.slice(this.maxLineLength);
    }
  }

  /** Emits what is left without a newline, if anything. */
  flush(): void {
    if (this.pending !== "") this.onLine(this.pending);
    this.pending = "";
  }
}
