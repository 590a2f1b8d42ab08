/**
 * The Cloud Logging v2 part of the GCP fake: `entries.list`
 * (LoggingServiceV2/ListLogEntries) and live tailing
 * (LoggingServiceV2/TailLogEntries), over the entries the Cloud Run fake's
 * tasks write.
 *
 * Simulated, each with its source:
 * - order: "timestamp asc" (the API's default) or "timestamp desc"; anything
 *   else is INVALID_ARGUMENT; equal timestamps in insert_id order
 *   (logging.proto, ListLogEntriesRequest.order_by);
 * - page size: default 50, negative or above 1000 rejected
 *   (ListLogEntriesRequest.page_size);
 * - page tokens that continue after the last entry returned, bound to the
 *   request, expiring after 24 hours (Logging quotas page: "Lifetime of API
 *   page tokens — 24 hours");
 * - empty pages that still carry a token ("If a value for next_page_token
 *   appears and the entries field is empty, it means that the search found no
 *   log entries so far but it did not have time to search all the possible log
 *   entries", ListLogEntriesResponse.next_page_token), on request;
 * - late delivery: an entry becomes readable a lag after its timestamp
 *   (LogEntry.receive_timestamp is "the time the log entry was received by
 *   Logging"; TailLogEntriesRequest.buffer_window exists "to prevent out of
 *   order results due to late arriving log entries"), so a reader that
 *   resumes strictly after the last timestamp it saw can miss a line that
 *   arrived late;
 * - the read quota: "Number of entries.list requests — 60 per minute, per
 *   Google Cloud project" (https://cloud.google.com/logging/quotas#api-limits),
 *   answered RESOURCE_EXHAUSTED (HTTP 429 over REST);
 * - live tailing: at most 10 open sessions per project ("Number of open
 *   live-tailing sessions — 10 per Google Cloud project", same page); entries
 *   held for the buffer window (default 2000 ms, 0-60000 allowed,
 *   TailLogEntriesRequest.buffer_window) before they are sent.
 */

import type { FakeClock } from "../aws/clock.js";
import { GcpApiError, GrpcStatus } from "./api-error.js";
import { type FilterableEntry, parseLogFilter } from "./log-filter.js";
import { decodePageToken, encodePageToken, requestScope } from "./paging.js";
import { durationMs, toTimestamp } from "./wire-values.js";

type Json = Record<string, unknown>;

/** An entry as the fake stores it. */
export interface FakeLogEntry extends FilterableEntry {
  /** When the entry becomes readable, on the fake's clock. */
  visibleAt: number;
}

/** What {@link FakeCloudLogging.write} takes. */
export interface LogEntryInput {
  logName: string;
  resource: { type: string; labels: Record<string, string> };
  labels?: Record<string, string>;
  textPayload: string;
  severity?: string;
  /** When the entry was written, ms since the epoch. Default: now. */
  timestamp?: number;
  /** Extra delivery lag for this entry only, on top of the fake's lag. */
  extraLagMs?: number;
}

/** The request a tail session opened with, as the fake received it. */
export interface TailRequestRecord {
  resourceNames: string[];
  filter: string;
  /** The buffer window the client sent, ms; undefined when the field was absent. */
  bufferWindowMs: number | undefined;
}

/** One live-tailing session's output. */
export interface TailSink {
  /** Sends a batch of entries. */
  send(entries: Json[]): void;
  /** Ends the stream with an error. */
  fail(error: GcpApiError): void;
}

/** "Number of entries.list requests — 60 per minute, per Google Cloud project". */
export const entriesListPerMinute = 60;
/** "Number of open live-tailing sessions — 10 per Google Cloud project". */
export const tailSessionsPerProject = 10;
const pageTokenLifetimeMs = 24 * 3600_000;
const defaultBufferWindowMs = 2000;

type Cursor = { timestamp: number; insertId: string };

/** The Cloud Logging simulation. */
export class FakeCloudLogging {
  private readonly entries: FakeLogEntry[] = [];
  private lagMs = 0;
  private readQuota = entriesListPerMinute;
  private readonly reads = new Map<string, number[]>();
  private emptyPages = 0;
  private insertCounter = 0;
  private readonly openTails = new Map<string, number>();
  /** Every ListLogEntries request received (filter, order, page size), for assertions on what a client sent. */
  readonly listRequests: Array<{ resourceNames: string[]; filter: string; orderBy: string; pageSize: number }> = [];
  /** Every tail session's opening request. */
  readonly tailRequests: TailRequestRecord[] = [];
  /** How many ListLogEntries calls were refused for the read quota. */
  throttledReads = 0;

  constructor(private readonly clock: FakeClock) {}

  /**
   * Sets the delivery lag: an entry becomes readable `ms` after its timestamp.
   * Google publishes no bound (Cloud Logging ingests asynchronously), so a
   * test picks one.
   */
  setDeliveryLag(ms: number): void {
    this.lagMs = ms;
  }

  /** Changes the entries.list quota per project per minute (default 60, the published one); Infinity turns it off. */
  setReadQuotaPerMinute(perMinute: number): void {
    this.readQuota = perMinute;
  }

  /** The next `count` ListLogEntries calls answer an empty page with a token that resumes where they stood. */
  answerEmptyPages(count: number): void {
    this.emptyPages += count;
  }

  /** Writes an entry, as Cloud Run's log agent would. */
  write(input: LogEntryInput): FakeLogEntry {
    const timestamp = input.timestamp ?? this.clock.now();
    const lag = this.lagMs + (input.extraLagMs ?? 0);
    const entry: FakeLogEntry = {
      logName: input.logName,
      resource: input.resource,
      labels: input.labels ?? {},
      textPayload: input.textPayload,
      severity: input.severity ?? "DEFAULT",
      timestamp,
      receiveTimestamp: timestamp + lag,
      visibleAt: timestamp + lag,
      insertId: `${timestamp.toString(36)}-${(this.insertCounter++).toString(36).padStart(6, "0")}`,
    };
    this.entries.push(entry);
    return entry;
  }

  /** Every entry written so far, readable or not, oldest first. */
  allEntries(): FakeLogEntry[] {
    return [...this.entries].sort(compareAsc);
  }

  /** ListLogEntries. */
  list(request: Json): Json {
    const resourceNames = (request.resourceNames as string[] | undefined) ?? [];
    const projects = this.projectsOf(resourceNames);
    const filter = String(request.filter ?? "");
    const orderBy = String(request.orderBy ?? "");
    const pageSize = Number(request.pageSize ?? 0);
    this.listRequests.push({ resourceNames, filter, orderBy, pageSize });
    if (orderBy !== "" && orderBy !== "timestamp asc" && orderBy !== "timestamp desc")
      throw GcpApiError.invalid(
        `Invalid order_by "${orderBy}": the only permitted values are "timestamp asc" and "timestamp desc".`,
      );
    if (pageSize < 0 || pageSize > 1000)
      throw GcpApiError.invalid(
        `Invalid page_size ${pageSize}: it must be between 0 and 1000 (0 means the default, 50).`,
      );
    const now = this.clock.now();
    for (const project of projects) this.chargeRead(project, now);
    const matches = parseLogFilter(filter);
    const descending = orderBy === "timestamp desc";
    const scope = requestScope("ListLogEntries", [...resourceNames].sort(), filter, orderBy);
    let after: Cursor | undefined;
    if (request.pageToken) {
      const position = decodePageToken<Cursor | null>(String(request.pageToken), scope);
      if (now - position.issuedAt > pageTokenLifetimeMs)
        throw GcpApiError.invalid("The page token has expired (page tokens live 24 hours); start the listing again.");
      after = position.cursor ?? undefined;
    }
    if (this.emptyPages > 0) {
      this.emptyPages -= 1;
      return { entries: [], nextPageToken: encodePageToken(scope, { cursor: after ?? null, issuedAt: now }) };
    }
    const visible = this.entries
      .filter((e) => e.visibleAt <= now && projects.has(projectOfLog(e.logName)) && matches(e))
      .sort(descending ? (a, b) => compareAsc(b, a) : compareAsc)
      .filter((e) => !after || (descending ? compareAsc(e, after) < 0 : compareAsc(e, after) > 0));
    const size = pageSize > 0 ? pageSize : 50;
    const page = visible.slice(0, size);
    const last = page.at(-1);
    const nextPageToken =
      visible.length > size && last
        ? encodePageToken(scope, { cursor: { timestamp: last.timestamp, insertId: last.insertId }, issuedAt: now })
        : "";
    return { entries: page.map(wireEntry), nextPageToken };
  }

  /**
   * Opens a TailLogEntries session from its first request; returns a function
   * that closes it. Entries that become readable after the session opened are
   * sent once they have waited out the buffer window.
   */
  openTail(request: Json, sink: TailSink, settle: () => void): () => void {
    const resourceNames = (request.resourceNames as string[] | undefined) ?? [];
    const projects = this.projectsOf(resourceNames);
    const filter = String(request.filter ?? "");
    const bufferWindowMs = durationMs(request.bufferWindow as Json | undefined);
    this.tailRequests.push({ resourceNames, filter, bufferWindowMs });
    if (bufferWindowMs !== undefined && (bufferWindowMs < 0 || bufferWindowMs > 60_000))
      throw GcpApiError.invalid(
        `Invalid buffer_window ${bufferWindowMs} ms: valid values are between 0 and 60000 milliseconds.`,
      );
    const matches = parseLogFilter(filter);
    for (const project of projects) {
      const open = this.openTails.get(project) ?? 0;
      if (open >= tailSessionsPerProject)
        throw new GcpApiError(
          GrpcStatus.RESOURCE_EXHAUSTED,
          `Quota exceeded: project ${project} already has ${open} open live-tailing sessions (limit ${tailSessionsPerProject} per project).`,
        );
    }
    for (const project of projects) this.openTails.set(project, (this.openTails.get(project) ?? 0) + 1);
    const window = bufferWindowMs ?? defaultBufferWindowMs;
    const openedAt = this.clock.now();
    const sent = new Set<string>();
    const timer = setInterval(() => {
      settle();
      const now = this.clock.now();
      const due = this.entries
        .filter(
          (e) =>
            !sent.has(e.insertId) &&
            e.visibleAt >= openedAt &&
            e.visibleAt + window <= now &&
            projects.has(projectOfLog(e.logName)) &&
            matches(e),
        )
        .sort(compareAsc);
      if (due.length === 0) return;
      for (const e of due) sent.add(e.insertId);
      sink.send(due.map(wireEntry));
    }, 50);
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      for (const project of projects) this.openTails.set(project, (this.openTails.get(project) ?? 1) - 1);
    };
  }

  private projectsOf(resourceNames: string[]): Set<string> {
    if (resourceNames.length === 0)
      throw GcpApiError.invalid("resource_names is required: name at least one projects/[PROJECT_ID].");
    if (resourceNames.length > 100)
      throw GcpApiError.invalid("A maximum of 100 resources may be specified in a single request.");
    const projects = new Set<string>();
    for (const name of resourceNames) {
      const match = /^projects\/([^/]+)$/.exec(name);
      if (!match)
        throw GcpApiError.invalid(
          `Invalid resource name "${name}": the fake simulates projects/[PROJECT_ID] only (not folders, organizations or views).`,
        );
      projects.add(match[1] as string);
    }
    return projects;
  }

  private chargeRead(project: string, now: number): void {
    const recent = (this.reads.get(project) ?? []).filter((t) => t > now - 60_000);
    if (recent.length >= this.readQuota) {
      this.reads.set(project, recent);
      this.throttledReads += 1;
      throw new GcpApiError(
        GrpcStatus.RESOURCE_EXHAUSTED,
        `Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute' of service 'logging.googleapis.com' for consumer 'project_number:${project}'.`,
      );
    }
    recent.push(now);
    this.reads.set(project, recent);
  }
}

function projectOfLog(logName: string): string {
  return /^projects\/([^/]+)\//.exec(logName)?.[1] ?? "";
}

function compareAsc(a: Cursor, b: Cursor): number {
  return a.timestamp - b.timestamp || (a.insertId < b.insertId ? -1 : a.insertId > b.insertId ? 1 : 0);
}

function wireEntry(entry: FakeLogEntry): Json {
  return {
    logName: entry.logName,
    resource: entry.resource,
    labels: entry.labels,
    textPayload: entry.textPayload,
    severity: entry.severity,
    timestamp: toTimestamp(entry.timestamp),
    receiveTimestamp: toTimestamp(entry.receiveTimestamp),
    insertId: entry.insertId,
  };
}
