/**
 * Human durations as flotilla.yaml and the CLI accept them: "500ms", "30s",
 * "5m", "1h30m", "1.5s". A bare number is refused because its unit would be
 * a guess.
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/** Parses a duration to milliseconds; the error names `what` and shows valid forms. */
export function parseDuration(text: string, what = "duration"): number {
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
