/**
 * A job's timeout as every plugin reads it, so providers agree on what unset,
 * zero and negative mean (the contract's JobSpec.timeout comment): unset or
 * zero is no limit, negative is refused, anything else is milliseconds —
 * however long (a timer past Node's 24.8-day limit is `setLongTimeout`'s job).
 */
import type { Duration } from "@bufbuild/protobuf/wkt";
import { InvalidArgumentError } from "@flotilla/protocol";

/** The timeout in milliseconds, or undefined for no limit; `where` names the field in errors. */
export function jobTimeoutMs(timeout: Duration | undefined, where = "JobSpec.timeout"): number | undefined {
  if (!timeout) return undefined;
  const ms = Number(timeout.seconds) * 1000 + Math.floor(timeout.nanos / 1_000_000);
  if (ms < 0 || timeout.nanos < 0) {
    throw new InvalidArgumentError(`${where}: negative (${ms} ms); give a positive duration, or none for no limit`);
  }
  return ms === 0 && timeout.nanos === 0 ? undefined : Math.max(ms, 1);
}
