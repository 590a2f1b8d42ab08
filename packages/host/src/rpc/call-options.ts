/**
 * Per-call options every host → plugin call accepts.
 */
import { Metadata } from "@grpc/grpc-js";

/** What a caller may attach to one call. */
export interface CallOptions {
  /** Cancels the call; the plugin handler's own AbortSignal fires too. */
  signal?: AbortSignal;
  /** Deadline in milliseconds from now; sent as grpc-timeout so the handler sees it. */
  timeoutMs?: number;
  /** Extra request metadata (lower-case keys). */
  headers?: Record<string, string>;
}

/** The absolute deadline of `options`, if any, counted from `now` (a test's clock; default the system's). */
export function deadlineOf(options: CallOptions | undefined, now: () => number = Date.now): Date | undefined {
  return options?.timeoutMs === undefined ? undefined : new Date(now() + options.timeoutMs);
}

/** grpc-js metadata holding `options.headers`. */
export function metadataOf(options: CallOptions | undefined): Metadata {
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(options?.headers ?? {})) metadata.set(k, v);
  return metadata;
}
