/** Counts the calls the AWS fake received, per operation, so tests and benches can assert batching. */
export class CallCounter {
  private readonly counts = new Map<string, number>();

  /** Records one call of `operation`. */
  record(operation: string): void {
    this.counts.set(operation, (this.counts.get(operation) ?? 0) + 1);
  }

  /** How many calls of `operation` arrived since the start or the last {@link reset}. */
  count(operation: string): number {
    return this.counts.get(operation) ?? 0;
  }

  /** Every operation's count. */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  /** Forgets all counts. */
  reset(): void {
    this.counts.clear();
  }
}
