/**
 * The last lines a plugin wrote to stderr, kept so that an error about the
 * plugin can show what it said before it failed.
 */

/** A bounded ring of lines, oldest dropped first. */
export class StderrTail {
  private readonly lines: string[] = [];

  constructor(
    /** How many lines to keep. */
    readonly capacity = 20,
    /** Longest line kept; longer lines are cut so a runaway line cannot fill memory. */
    readonly maxLineLength = 1000,
  ) {}

  /** Adds one line. */
  push(line: string): void {
    this.lines.push(line.length > this.maxLineLength ? `${line.slice(0, this.maxLineLength)}…` : line);
    if (this.lines.length > this.capacity) this.lines.shift();
  }

  /** The kept lines, oldest first. */
  snapshot(): string[] {
    return [...this.lines];
  }
}
