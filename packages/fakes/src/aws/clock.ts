/**
 * The fake's notion of time. It follows the wall clock so a plugin started as
 * a subprocess sees tasks progress on their own, and tests can jump it
 * forward with {@link FakeClock.advance} instead of sleeping.
 */
export class FakeClock {
  private offsetMs = 0;
  /** The wall-clock time the clock was stopped at, if it was. */
  private stoppedAt: number | undefined;

  /** Milliseconds since the epoch, as the fake sees them. */
  now(): number {
    return (this.stoppedAt ?? Date.now()) + this.offsetMs;
  }

  /**
   * Stops the clock from following the wall clock: from then on only
   * {@link advance} moves it. For tests that count calls per second of the
   * fake's time, where the real time a request spends in flight (more on a
   * loaded machine) would otherwise shift calls into the next second.
   */
  stop(): void {
    this.stoppedAt ??= Date.now();
  }

  /** Moves the fake's time forward; tasks and log lines due by then appear on the next request. */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0)
      throw new RangeError(`FakeClock.advance: ms must be a finite number >= 0, got ${ms}`);
    this.offsetMs += ms;
  }
}
