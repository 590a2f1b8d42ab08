/**
 * A Cloud Run job execution's log from Cloud Logging, read with entries.list
 * (ListLogEntries) through the SDK's followLog.
 *
 * Every request is explicit about what the Node client would otherwise pick:
 * order "timestamp asc" (its `getEntries` defaults to newest first) and a
 * time window `timestamp >= FROM AND timestamp <= UNTIL` (without a timestamp
 * term `getEntries` adds a 24-hour window). The plugin calls the client's
 * LoggingServiceV2 (`logging.loggingService.listLogEntries`, the call
 * `getEntries` makes) because `getEntries` turns timestamps into Dates,
 * dropping the nanoseconds a position needs.
 *
 * The position after a line is that line's (timestamp, insert id), the order
 * Cloud Logging sorts in; the next read asks from that timestamp on and drops
 * what is not after it. Entries arrive late ("the time the log entry was
 * received by Logging", LogEntry.receive_timestamp; TailLogEntries buffers
 * 2 s by default "to prevent out of order results due to late arriving log
 * entries"), so a read stops `settleMs` before now: a line stamped earlier
 * than one already passed would otherwise be skipped for good. Every read
 * takes a token from the project's budget: entries.list is limited to 60
 * calls a minute per project (Logging quotas page).
 */
import {
  classifyReadError,
  decodeLogCursor as decodeCursor,
  followLog,
  type LogLineInit,
  type LogPosition,
  LogStream,
  type RequestBudget,
  timestampFromMs,
} from "@flotilla/plugin-sdk";
import { InvalidArgumentError } from "@flotilla/protocol";
import type { Logging } from "@google-cloud/logging";
import { translateGcpError } from "./errors.js";
import type { ExecutionRef } from "./execution-name.js";
import { timestampMsOf } from "./job-status.js";

/** Decodes JobLogsRequest.cursor; "" means the beginning. */
export function decodeLogCursor(text: string): LogPosition {
  return decodeCursor(text, { issuer: "gcp" });
}

/** A log entry as ListLogEntries returns it (the fields read here). */
interface WireEntry {
  timestamp?: { seconds?: string | number | null; nanos?: number | null } | null;
  insertId?: string | null;
  logName?: string | null;
  textPayload?: string | null;
  jsonPayload?: unknown;
}

/** A point in the log: a timestamp (seconds, nanos) and the insert id of the entry there, if any. */
interface Position {
  seconds: bigint;
  nanos: number;
  insertId: string;
}

function encodePosition(p: Position): string {
  return `${p.seconds}.${String(p.nanos).padStart(9, "0")}|${p.insertId}`;
}

function decodePosition(token: string): Position {
  const match = /^(-?\d+)\.(\d{9})\|(.*)$/s.exec(token);
  if (!match) throw new Error(`not a gcp log position: ${JSON.stringify(token.slice(0, 60))}`);
  return { seconds: BigInt(match[1] as string), nanos: Number(match[2]), insertId: match[3] as string };
}

function positionOfMs(ms: number): Position {
  const seconds = Math.floor(ms / 1000);
  return { seconds: BigInt(seconds), nanos: (ms - seconds * 1000) * 1e6, insertId: "" };
}

function positionOf(entry: WireEntry): Position {
  return {
    seconds: BigInt(String(entry.timestamp?.seconds ?? 0)),
    nanos: Number(entry.timestamp?.nanos ?? 0),
    insertId: entry.insertId ?? "",
  };
}

function compare(a: Position, b: Position): number {
  if (a.seconds !== b.seconds) return a.seconds < b.seconds ? -1 : 1;
  if (a.nanos !== b.nanos) return a.nanos - b.nanos;
  return a.insertId < b.insertId ? -1 : a.insertId > b.insertId ? 1 : 0;
}

/** RFC 3339 with nanoseconds, as the Logging query language compares timestamps. */
function rfc3339(p: Position): string {
  const iso = new Date(Number(p.seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, "");
  return `${iso}.${String(p.nanos).padStart(9, "0")}Z`;
}

/** The filter that selects one execution's entries (the labels Cloud Run puts on job logs). */
export function executionLogFilter(ref: ExecutionRef): string {
  return [
    'resource.type="cloud_run_job"',
    `resource.labels.job_name="${ref.jobId}"`,
    `resource.labels.location="${ref.region}"`,
    `labels."run.googleapis.com/execution_name"="${ref.executionId}"`,
  ].join(" AND ");
}

/** Most entries per ListLogEntries call (logging.proto, ListLogEntriesRequest.page_size: at most 1000). */
const pageSize = 1000;
/** Continuations of one read when Cloud Logging answers "no entries so far" with a token. */
const maxContinuations = 5;

/** Where an execution's log is and how to follow it. */
export interface LogSource {
  readonly logging: Logging;
  readonly ref: ExecutionRef;
  /** When the execution was created, ms: the window's lower bound when reading from the start. */
  readonly fromMs: number;
  readonly cursor: LogPosition;
  readonly follow: boolean;
  readonly isFinished: () => Promise<boolean>;
  readonly pollIntervalMs: number;
  readonly drainGraceMs: number;
  readonly settleMs: number;
  readonly signal: AbortSignal;
  /** The entries.list budget of the project. */
  readonly budget?: RequestBudget;
  /** The clock that bounds the window, ms; default Date.now (tests pass the fake's). */
  readonly now?: () => number;
}

/** Yields the execution's lines page by page, each with its resume cursor. */
export async function* readExecutionLog(source: LogSource): AsyncGenerator<LogLineInit[]> {
  const now = source.now ?? Date.now;
  const service = (source.logging as unknown as { loggingService: LoggingService }).loggingService;
  const baseFilter = executionLogFilter(source.ref);
  if (source.cursor.token !== undefined) {
    try {
      decodePosition(source.cursor.token);
    } catch (err) {
      throw new InvalidArgumentError(
        `JobLogsRequest.cursor: ${(err as Error).message}; pass a cursor a JobLogs line of this job carried, or none`,
      );
    }
  }
  yield* followLog<WireEntry>({
    from: source.cursor,
    signal: source.signal,
    budget: source.budget,
    now,
    follow: source.follow ? source : undefined,
    async readPage(token, signal) {
      const after = token ? decodePosition(token) : undefined;
      const from = after ?? positionOfMs(source.fromMs);
      const until = positionOfMs(now() - source.settleMs);
      if (compare(until, from) < 0) return { entries: [], nextToken: token };
      const filter = `${baseFilter} AND timestamp>="${rfc3339(from)}" AND timestamp<="${rfc3339(until)}"`;
      let pageToken: string | undefined;
      let entries: WireEntry[] = [];
      for (let call = 0; ; call++) {
        if (call > 0) await source.budget?.take(signal);
        const [page, , response] = await service.listLogEntries(
          {
            resourceNames: [`projects/${source.ref.project}`],
            filter,
            orderBy: "timestamp asc",
            pageSize,
            ...(pageToken ? { pageToken } : {}),
          },
          { autoPaginate: false },
        );
        entries = page ?? [];
        pageToken = response?.nextPageToken || undefined;
        // "If a value for next_page_token appears and the entries field is empty, it means that the
        // search found no log entries so far but it did not have time to search all the possible log
        // entries" (logging.proto, ListLogEntriesResponse).
        if (entries.length > 0 || !pageToken || call >= maxContinuations) break;
      }
      const fresh = after ? entries.filter((e) => compare(positionOf(e), after) > 0) : entries;
      const last = fresh.at(-1);
      // The same token read again gives the same entries first: they are the oldest after it.
      return { entries: fresh, nextToken: last ? encodePosition(positionOf(last)) : token };
    },
    toLine: (entry) => ({
      stream: entry.logName?.endsWith("%2Fstderr")
        ? LogStream.STDERR
        : entry.logName?.endsWith("%2Fstdout")
          ? LogStream.STDOUT
          : LogStream.UNSPECIFIED,
      text: (entry.textPayload ?? (entry.jsonPayload ? JSON.stringify(entry.jsonPayload) : "")).replace(/\r?\n$/, ""),
      ...(entry.timestamp ? { time: timestampFromMs(timestampMsOf(entry.timestamp) ?? 0) } : {}),
    }),
    classifyError: (err) => classifyReadError(translateGcpError(err, "Cloud Logging entries.list")),
  });
}

/** The part of the client's LoggingServiceV2Client used here. */
interface LoggingService {
  listLogEntries(
    request: Record<string, unknown>,
    options: { autoPaginate: false },
  ): Promise<[WireEntry[] | null, unknown, { nextPageToken?: string | null } | null | undefined]>;
}
