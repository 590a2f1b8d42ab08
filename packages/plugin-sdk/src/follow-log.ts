/**
 * A job's log read from a cloud's paged log API, as JobLogs streams it: page
 * by page from a cursor, each line with the cursor to resume right after it,
 * and with `follow` on until the job has ended and its log is drained. The
 * plugin gives the one call that reads a page and says what its errors mean;
 * this does the rest every cloud needs:
 *
 * - an empty page with a new token is not the end (CloudWatch, for one,
 *   answers so across a gap in time): only "no new token" means caught up;
 * - every read takes a token from a RequestBudget shared by all followers of
 *   the quota, and a throttled read backs off exponentially and holds the
 *   whole budget back, since the quota is shared with others too;
 * - a transient failure while following becomes a warning line, not the end;
 * - logs arrive late (ingestion lag), so once the job has ended the reader
 *   keeps reading until the log has been quiet for a grace period, within an
 *   overall bound;
 * - the caller going away (the handler's signal) ends it at once, also
 *   in the middle of a wait.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { sleep } from "@flotilla/process";
import { Code, type FlotillaError, type LogLine, type LogLineSchema, LogStream } from "@flotilla/protocol";
import { encodeLogCursor, LOG_HEAD, type LogPosition } from "./log-cursor.js";
import type { RequestBudget } from "./request-budget.js";

/** A LogLine as a JobLogs handler yields it. */
export type LogLineInit = MessageInitShape<typeof LogLineSchema>;

/** What a plugin says about one line (stream, text, time); the reader adds its cursor. */
export type LogLineFields = Omit<Exclude<LogLineInit, LogLine>, "$typeName" | "cursor">;

/** One page of a log. */
export interface LogPage<Entry> {
  /**
   * The entries at the token read, from its first. Reading the same token
   * again must return the same entries first (then any that arrived since):
   * a cursor counts the entries of its page already consumed.
   */
  readonly entries: readonly Entry[];
  /** The token of what follows; absent, empty or the token just read when there is nothing more yet. */
  readonly nextToken?: string | undefined;
}

/** What a failed page read means; the plugin decides (see {@link classifyReadError}). */
export type ReadFailure =
  /** The quota is used up: back off exponentially, and hold the shared budget back. */
  | { readonly kind: "throttled"; readonly error: Error }
  /** Worth another try: while following, a warning line and another read at the poll pace. */
  | { readonly kind: "retry"; readonly error: Error }
  /** There is no log (yet): the same as an empty page, e.g. before the job's container started. */
  | { readonly kind: "absent" }
  /** Give up: the reader throws `error`. */
  | { readonly kind: "fatal"; readonly error: Error };

/**
 * The usual reading of a contract error: RESOURCE_EXHAUSTED is throttling,
 * NOT_FOUND is a log that does not exist yet, other retriable codes are
 * retried, anything else ends the read. Translate your cloud's error into
 * the contract's classes first, then pass it here.
 */
export function classifyReadError(error: FlotillaError): ReadFailure {
  if (error.code === Code.ResourceExhausted) return { kind: "throttled", error };
  if (error.code === Code.NotFound) return { kind: "absent" };
  return error.retriable ? { kind: "retry", error } : { kind: "fatal", error };
}

/** How to keep reading until the job has ended and its log is drained. */
export interface FollowOptions {
  /** True once the job has ended; asked only when the reader has caught up. */
  readonly isFinished: () => Promise<boolean>;
  /** The wait between reads once caught up, and the shortest back-off when throttled. */
  readonly pollIntervalMs: number;
  /**
   * After the job ended, keep reading until no new line arrived for this
   * long: lines reach a cloud's log service after the container wrote them.
   * 0 reads once more after the end.
   */
  readonly drainGraceMs: number;
  /**
   * The longest the drain lasts, however often late lines keep arriving:
   * counted from when the reader first caught up with the ended job.
   * Default {@link defaultMaxDrainMs} of the grace period.
   */
  readonly maxDrainMs?: number;
  /**
   * For a source that can tell when something new was written (an event, a
   * push notification): resolves when it may have new lines, so the reader
   * reads again at once instead of at the next poll. Polling goes on as the
   * fallback. The signal aborts once the wait is over.
   */
  readonly changed?: (signal: AbortSignal) => Promise<unknown>;
}

/** Options of {@link followLog}. */
export interface FollowLogOptions<Entry> {
  /** Reads the page at `token` (undefined: the head). Pass `signal` on to the HTTP call. */
  readonly readPage: (token: string | undefined, signal: AbortSignal) => Promise<LogPage<Entry>>;
  /** The line for an entry; the reader adds its cursor. */
  readonly toLine: (entry: Entry) => LogLineFields;
  /** What a failed read means. */
  readonly classifyError: (error: unknown) => ReadFailure;
  /** Where to start (a decoded JobLogsRequest.cursor); default the head. */
  readonly from?: LogPosition;
  /** Keep reading until the job ended and the log is drained; absent: read to the current end once. */
  readonly follow?: FollowOptions | undefined;
  /** Ends the read, also mid-wait: the handler's `context.signal`. */
  readonly signal: AbortSignal;
  /** The budget of the API's quota, shared by every reader of it; each read takes a token. */
  readonly budget?: RequestBudget | undefined;
  /** The longest back-off after throttling; default {@link defaultMaxThrottleBackoffMs}. */
  readonly maxBackoffMs?: number;
  /** The clock of the drain, in ms; default Date.now. Tests pass a fake clock. */
  readonly now?: () => number;
  /** Waits `ms` or until the signal aborts (may resolve or reject then); default a timer. Tests pass a fake. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** The longest back-off after throttling unless told otherwise. */
export const defaultMaxThrottleBackoffMs = 30_000;

/** The default bound of a drain: six times its grace period, and at least a minute. */
export function defaultMaxDrainMs(drainGraceMs: number): number {
  return Math.max(60_000, 6 * drainGraceMs);
}

function checkOptions(options: FollowLogOptions<unknown>): void {
  const check = (name: string, value: number, min: number, inclusive: boolean) => {
    if (!(Number.isFinite(value) && (inclusive ? value >= min : value > min)))
      throw new RangeError(`followLog: ${name} must be a finite number ${inclusive ? ">=" : ">"} ${min}, got ${value}`);
  };
  if (options.maxBackoffMs !== undefined) check("maxBackoffMs", options.maxBackoffMs, 0, false);
  const follow = options.follow;
  if (!follow) return;
  check("follow.pollIntervalMs", follow.pollIntervalMs, 0, false);
  check("follow.drainGraceMs", follow.drainGraceMs, 0, true);
  if (follow.maxDrainMs !== undefined) check("follow.maxDrainMs", follow.maxDrainMs, follow.drainGraceMs, true);
}

/**
 * Reads a job's log page by page and yields its lines, each with the cursor
 * that resumes right after it; yield each batch as `{ lines }` from JobLogs.
 */
export async function* followLog<Entry>(options: FollowLogOptions<Entry>): AsyncGenerator<LogLineInit[], void> {
  checkOptions(options as FollowLogOptions<unknown>);
  const { signal, budget, follow } = options;
  const now = options.now ?? Date.now;
  const wait = options.sleep ?? sleep;
  const maxBackoffMs = options.maxBackoffMs ?? defaultMaxThrottleBackoffMs;
  const maxDrainMs = follow ? (follow.maxDrainMs ?? defaultMaxDrainMs(follow.drainGraceMs)) : 0;
  let { token, skip } = options.from ?? LOG_HEAD;
  /** When the reader first caught up with the ended job: the drain's start. */
  let drainingSince: number | undefined;
  /** When the last new line came during the drain. */
  let quietSince = 0;
  /** The last back-off after throttling; 0 after a read that went through. */
  let backoffMs = 0;

  /** Waits out `ms`, or less when the signal aborts or (if `early`) the source says it changed. */
  const pause = async (ms: number, early: boolean): Promise<void> => {
    const done = new AbortController();
    const waiting = AbortSignal.any([signal, done.signal]);
    const timer = wait(ms, waiting).catch((err: unknown) => {
      if (!waiting.aborted) throw err;
    });
    const changed = early ? follow?.changed : undefined;
    try {
      // A failing `changed` falls back to the timer.
      await (changed ? Promise.race([timer, changed(waiting).then(undefined, () => timer)]) : timer);
    } finally {
      done.abort();
    }
  };
  const warning = (text: string): LogLineInit[] => [
    {
      stream: LogStream.SYSTEM,
      text: `warning: reading the log failed and will be retried: ${text}`,
      cursor: encodeLogCursor({ token, skip }),
    },
  ];

  while (!signal.aborted) {
    try {
      await budget?.take(signal);
    } catch (err) {
      if (signal.aborted) return;
      throw err;
    }
    let page: LogPage<Entry> | undefined;
    try {
      page = await options.readPage(token, signal);
    } catch (err) {
      if (signal.aborted) return;
      const failure = options.classifyError(err);
      if (failure.kind === "fatal" || (failure.kind !== "absent" && !follow)) throw failure.error;
      if (failure.kind === "throttled" && follow) {
        // Polling on at the usual pace would keep the quota exhausted for everyone sharing it.
        backoffMs = Math.min(maxBackoffMs, Math.max(follow.pollIntervalMs, backoffMs * 2));
        budget?.backOff(backoffMs);
        yield warning(`${failure.error.message} (throttled: backing off ${backoffMs} ms)`);
        await pause(backoffMs, false);
        continue;
      }
      if (failure.kind === "retry") yield warning(failure.error.message);
    }
    if (page) {
      backoffMs = 0;
      const fresh = page.entries.slice(skip);
      const next = page.nextToken;
      const moves = next !== undefined && next !== "" && next !== token;
      if (fresh.length > 0) {
        const readAt = token;
        const consumed = skip;
        const last = fresh.length - 1;
        yield fresh.map((entry, i) => ({
          ...options.toLine(entry),
          cursor: encodeLogCursor(
            i === last && moves ? { token: next, skip: 0 } : { token: readAt, skip: consumed + i + 1 },
          ),
        }));
        if (moves) [token, skip] = [next, 0];
        else skip += fresh.length;
        if (drainingSince !== undefined) quietSince = now();
        continue;
      }
      if (moves) {
        // An empty page with a new token: more may follow it, and no entry was passed over.
        [token, skip] = [next, 0];
        continue;
      }
    }
    if (!follow) return;
    if (drainingSince === undefined) {
      if (await follow.isFinished()) drainingSince = quietSince = now();
    } else if (now() - quietSince >= follow.drainGraceMs || now() - drainingSince >= maxDrainMs) {
      return;
    }
    await pause(follow.pollIntervalMs, true);
  }
}
