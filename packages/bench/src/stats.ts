/**
 * Summary statistics for latency samples. Percentiles use the nearest-rank
 * method on a sorted copy, which is exact for the sample and never
 * interpolates a latency that was not observed.
 */

/** Latency percentiles of one sample set, in microseconds. */
export interface LatencySummary {
  /** How many samples the summary covers. */
  readonly count: number;
  /** Median latency, µs. */
  readonly p50: number;
  /** 99th percentile latency, µs. */
  readonly p99: number;
  /** Arithmetic mean, µs. */
  readonly mean: number;
}

/**
 * The nearest-rank percentile `p` (0 < p ≤ 100) of `sorted`, which must be in
 * ascending order. Throws on an empty array, since a percentile of nothing
 * would otherwise surface as NaN far from its cause.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error("percentile: no samples; run at least one iteration before summarising");
  if (!(p > 0 && p <= 100)) throw new Error(`percentile: p must be in (0, 100], got ${p}`);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

/** p50, p99 and mean of `samples` (any order; the input is not modified). */
export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((total, value) => total + value, 0);
  return { count: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean: sum / sorted.length };
}

/**
 * `value / baseline`, the form every bench figure is reported in, so that a
 * noisy shared machine moves both sides of the comparison together.
 */
export function ratio(value: number, baseline: number): number {
  if (!(baseline > 0)) throw new Error(`ratio: baseline must be a positive number, got ${baseline}`);
  // A missing measurement (NaN) stays NaN and prints as such rather than throwing.
  return value / baseline;
}
