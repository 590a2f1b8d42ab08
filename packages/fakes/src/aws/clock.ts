/**
 * The fake's notion of time. It follows the wall clock so a plugin started as
 * a subprocess sees tasks progress on their own, and tests can jump it
 * forward with {@link FakeClock.advance} instead of sleeping.
 */
export class FakeClock {
  private offsetMs = 0;

  /** Milliseconds since the epoch, as the fake sees them. */
  now(): number {
    return Date.now() + this.offsetMs;
  }

  /** Moves the fake's time forward; tasks and log lines due by then appear on the next request. */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0)
      throw new RangeError(`FakeClock.advance: ms must be a finite number >= 0, got ${ms}`);
    this.offsetMs += ms;
  }
}
