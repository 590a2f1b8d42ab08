/**
 * Conversions between the fake's plain values and the protobuf well-known
 * types as the proto loader represents them (Timestamp and Duration as
 * `{ seconds, nanos }` with int64 seconds as strings).
 */

/** A google.protobuf.Timestamp for a time in ms since the epoch. */
export interface WireTimestamp {
  seconds: string;
  nanos: number;
}

/** Milliseconds since the epoch → google.protobuf.Timestamp. */
export function toTimestamp(ms: number): WireTimestamp {
  const seconds = Math.floor(ms / 1000);
  return { seconds: String(seconds), nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

/** google.protobuf.Duration (as decoded) → milliseconds; undefined when absent. */
export function durationMs(duration: { seconds?: string | number; nanos?: number } | undefined): number | undefined {
  if (!duration) return undefined;
  return Number(duration.seconds ?? 0) * 1000 + (duration.nanos ?? 0) / 1e6;
}

/** Milliseconds → google.protobuf.Duration. */
export function toDuration(ms: number): { seconds: string; nanos: number } {
  const seconds = Math.floor(ms / 1000);
  return { seconds: String(seconds), nanos: Math.round((ms - seconds * 1000) * 1e6) };
}
