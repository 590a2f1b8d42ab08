/**
 * Turns a stream of text chunks into whole lines, so every runner reports log
 * lines the same way no matter how its transport chunks the bytes.
 */

/** Accumulates chunks and emits each complete line (without "\n" or "\r\n"). */
export class LineSplitter {
  #pending = "";
  readonly #emit: (line: string) => void;

  constructor(emit: (line: string) => void) {
    this.#emit = emit;
  }

  /** Adds a chunk; emits the lines it completes. */
  push(chunk: string): void {
    const text = this.#pending + chunk;
    const lines = text.split("\n");
    this.#pending = lines.pop() ?? "";
    for (const line of lines) this.#emit(line.endsWith("\r") ? line.slice(0, -1) : line);
  }

  /** Emits a final line that had no trailing newline, if any. */
  flush(): void {
    if (this.#pending) this.#emit(this.#pending);
    this.#pending = "";
  }
}
