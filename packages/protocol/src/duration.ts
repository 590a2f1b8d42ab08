/**
 * Human durations as flotilla.yaml, the CLI and plugin configs accept them:
 * "500ms", "30s", "5m", "1h30m", "1.5s". A bare number is refused because its
 * unit would be a guess. One grammar for the host's side and the plugins'.
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/** The longest duration accepted unless the caller says otherwise: one year, far past any job, far short of overflowing. */
export const MAX_DURATION = { ms: 8760 * 3_600_000, name: "8760h (one year)" } as const;

/**
 * Parses a duration to milliseconds, at most `max`; the error names `what` and shows valid forms or the
 * allowed range.
 */
export function parseDuration(
  text: string,
  what = "duration",
  max: { ms: number; name: string } = MAX_DURATION,
): number {
  const trimmed = text.trim();
  const whole = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
  if (!whole.test(trimmed)) {
    throw new RangeError(
      `${what}: ${JSON.stringify(text)} is not a duration; write a number with a unit, e.g. "500ms", "30s", "5m" or "1h30m"`,
    );
  }
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(PART)) total += Number(amount) * (UNIT_MS[unit as string] as number);
  const ms = Math.round(total);
  if (ms <= 0) throw new RangeError(`${what}: ${JSON.stringify(text)} must be longer than zero`);
  if (ms > max.ms) {
    throw new RangeError(`${what}: ${JSON.stringify(text)} is longer than ${max.name}, the longest ${what} allowed`);
  }
  return ms;
}

/** Formats milliseconds the way people write them: "350ms", "1.5s", "2m", "1h5m". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(3))}s`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = Number(((ms % 60_000) / 1000).toFixed(3));
  return `${hours ? `${hours}h` : ""}${minutes ? `${minutes}m` : ""}${seconds ? `${seconds}s` : ""}`;
}
