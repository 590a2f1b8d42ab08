/**
 * The CloudWatch Logs part of the AWS fake: log groups, streams and events,
 * with forward tokens that behave like the real ones (a token at the end of
 * a stream comes back unchanged until new events arrive), and, on request,
 * the three things a real reader meets that a naive one gets wrong: empty
 * pages with a new token across a gap in time, ingestion lag, and throttling
 * at the GetLogEvents quota.
 */
import { AwsApiError } from "./api-error.js";
import type { FakeClock } from "./clock.js";

/** One log event as CloudWatch stores it. */
export interface FakeLogEvent {
  /** When the line was written, ms since the epoch. */
  timestamp: number;
  /** The line. */
  message: string;
  /** When CloudWatch received it, ms since the epoch. */
  ingestionTime: number;
}

interface LogGroup {
  logGroupName: string;
  creationTime: number;
  retentionInDays?: number;
  kmsKeyId?: string;
  tags: Record<string, string>;
  streams: Map<string, FakeLogEvent[]>;
}

type Json = Record<string, unknown>;

/** `f/<index of the next event>`, plus `/g` once a gap before that event has been answered with an empty page. */
const tokenPattern = /^f\/(\d{12})(\/g)?$/;

function forwardToken(index: number, gapCrossed = false): string {
  return `f/${String(index).padStart(12, "0")}${gapCrossed ? "/g" : ""}`;
}
/**
 * The most events one GetLogEvents page holds: without a limit CloudWatch
 * returns "as many log events as can fit in a response size of 1 MB (up to
 * 10,000 log events)" (CloudWatch Logs API reference, GetLogEvents).
 */
export const getLogEventsMaxEvents = 10_000;

/**
 * The most bytes one GetLogEvents page holds: "a response size of 1 MB" (ibid.). An event is counted as
 * its message's UTF-8 bytes plus 26, the per-event overhead CloudWatch Logs counts in a PutLogEvents batch
 * (API reference, PutLogEvents); the service does not publish how it measures a response. A page always
 * holds at least one event.
 */
export const getLogEventsMaxBytes = 1_048_576;
const eventOverheadBytes = 26;
const eventBytes = (event: FakeLogEvent) => Buffer.byteLength(event.message, "utf8") + eventOverheadBytes;

/** The in-memory CloudWatch Logs service. */
export class FakeCloudWatchLogs {
  private readonly groups = new Map<string, LogGroup>();
  private gapMs: number | undefined;
  private ingestionLagMs = 0;
  private getLogEventsPerSecond: number | undefined;
  /** Accepted GetLogEvents calls per region in the last second (fake clock), oldest first. */
  private readonly recentReads = new Map<string, number[]>();
  private throttledReads = 0;

  constructor(
    private readonly clock: FakeClock,
    private readonly account: string,
  ) {}

  /** Appends a line to a stream, creating the group and stream if needed (what the awslogs driver does with create-group). */
  append(logGroupName: string, logStreamName: string, message: string, timestamp = this.clock.now()): void {
    const group = this.groups.get(logGroupName) ?? this.addGroup(logGroupName);
    const stream = group.streams.get(logStreamName) ?? [];
    group.streams.set(logStreamName, stream);
    stream.push({ timestamp, message, ingestionTime: this.clock.now() });
  }

  /**
   * Answers a gap in time with an empty page. "This operation can return
   * empty results while there are more log events available through the
   * token" (CloudWatch Logs API reference, GetLogEvents): the service scans
   * the stream by time, and a stretch with no events gives a page with no
   * events and a NEW forward token. With a gap set, a page stops before an
   * event written more than `gapMs` after the one before it, and the read
   * that reaches that event answers `{events: [], nextForwardToken: <new>}`
   * first; the read with that token returns the events. Only a token equal
   * to the one passed in means the end ("If you have reached the end of the
   * stream, it returns the same token you passed in", same page,
   * `nextForwardToken`). `undefined` turns it off (the default).
   */
  setEmptyPagesAcrossGaps(gapMs: number | undefined): void {
    if (gapMs !== undefined && !(Number.isFinite(gapMs) && gapMs >= 0))
      throw new RangeError(`setEmptyPagesAcrossGaps: gapMs must be a finite number >= 0 or undefined, got ${gapMs}`);
    this.gapMs = gapMs;
  }

  /**
   * Delivery lag: an event becomes readable `ms` after it was written (on
   * the fake's clock). CloudWatch Logs is not read-after-write for a task's
   * output: an event carries both `timestamp` ("the time the event
   * occurred") and `ingestionTime` ("the time the event was ingested")
   * (CloudWatch Logs API reference, OutputLogEvent), and the awslogs driver
   * buffers a container's lines and sends them with PutLogEvents in batches,
   * at the latest every 5 s (moby daemon/logger/awslogs, `batchPublishFrequency
   * = 5 * time.Second`). AWS publishes no bound on the lag; a test picks it.
   * Default 0 (readable at once).
   */
  setIngestionLag(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0)
      throw new RangeError(`setIngestionLag: ms must be a finite number >= 0, got ${ms}`);
    this.ingestionLagMs = ms;
  }

  /**
   * Throttles GetLogEvents above `perSecond` accepted calls per region in any
   * second of the fake's clock, answering ThrottlingException "Rate exceeded"
   * (HTTP 400, JSON `__type`), as the service does. The real quota is 25
   * transactions per second per account per Region, shared by every caller
   * (AWS General Reference, "Amazon CloudWatch Logs endpoints and quotas",
   * GetLogEvents), and ThrottlingException is "The request was throttled
   * because of quota limits" (CloudWatch Logs API reference, Common errors /
   * the SDK model). `undefined` turns it off (the default).
   */
  setGetLogEventsRateLimit(perSecond: number | undefined): void {
    if (perSecond !== undefined && !(Number.isInteger(perSecond) && perSecond >= 1))
      throw new RangeError(
        `setGetLogEventsRateLimit: perSecond must be an integer >= 1 or undefined, got ${perSecond}`,
      );
    this.getLogEventsPerSecond = perSecond;
    this.recentReads.clear();
  }

  /** How many GetLogEvents calls were answered ThrottlingException by the rate limit. */
  get throttledGetLogEvents(): number {
    return this.throttledReads;
  }

  /** Creates an empty stream (the awslogs driver does so when the container starts). */
  ensureStream(logGroupName: string, logStreamName: string): void {
    const group = this.groups.get(logGroupName) ?? this.addGroup(logGroupName);
    if (!group.streams.has(logStreamName)) group.streams.set(logStreamName, []);
  }

  /** True when the group exists. */
  hasGroup(logGroupName: string): boolean {
    return this.groups.has(logGroupName);
  }

  /** The events of a stream, for assertions. */
  events(logGroupName: string, logStreamName: string): readonly FakeLogEvent[] {
    return this.groups.get(logGroupName)?.streams.get(logStreamName) ?? [];
  }

  /** Dispatches one JSON 1.1 operation; undefined when the operation is not a Logs one. */
  handle(operation: string, input: Json, region: string): Json | undefined {
    switch (operation) {
      case "GetLogEvents":
        this.admitRead(region);
        return this.getLogEvents(input);
      case "CreateLogGroup":
        return this.createLogGroup(input);
      case "DeleteLogGroup":
        return this.deleteLogGroup(input);
      case "DescribeLogGroups":
        return this.describeLogGroups(input, region);
      case "PutRetentionPolicy":
        return this.putRetentionPolicy(input);
      case "DeleteRetentionPolicy":
        return this.deleteRetentionPolicy(input);
      default:
        return undefined;
    }
  }

  private admitRead(region: string): void {
    if (this.getLogEventsPerSecond === undefined) return;
    const now = this.clock.now();
    const recent = (this.recentReads.get(region) ?? []).filter((t) => t > now - 1000);
    this.recentReads.set(region, recent);
    if (recent.length >= this.getLogEventsPerSecond) {
      this.throttledReads += 1;
      throw new AwsApiError("ThrottlingException", "Rate exceeded");
    }
    recent.push(now);
  }

  private addGroup(logGroupName: string): LogGroup {
    const group: LogGroup = { logGroupName, creationTime: this.clock.now(), tags: {}, streams: new Map() };
    this.groups.set(logGroupName, group);
    return group;
  }

  private requireGroup(input: Json): LogGroup {
    const name = String(input.logGroupName ?? "");
    const group = this.groups.get(name);
    if (!group) throw new AwsApiError("ResourceNotFoundException", "The specified log group does not exist.");
    return group;
  }

  private getLogEvents(input: Json): Json {
    const group = this.requireGroup(input);
    const all = group.streams.get(String(input.logStreamName ?? ""));
    if (!all) throw new AwsApiError("ResourceNotFoundException", "The specified log stream does not exist.");
    // Events still being ingested are not there yet; they are appended in order, so the readable ones are a prefix.
    const now = this.clock.now();
    const lagging = all.findIndex((e) => e.ingestionTime + this.ingestionLagMs > now);
    const stream = lagging === -1 ? all : all.slice(0, lagging);
    const limit = Math.min(Number(input.limit ?? getLogEventsMaxEvents), getLogEventsMaxEvents);
    let start: number;
    let gapCrossed = false;
    if (typeof input.nextToken === "string") {
      const match = tokenPattern.exec(input.nextToken);
      if (!match) throw new AwsApiError("InvalidParameterException", "The specified nextToken is invalid.");
      start = Number(match[1]);
      gapCrossed = match[2] !== undefined;
    } else if (input.startFromHead === true) {
      start = 0;
    } else {
      // Without startFromHead, CloudWatch returns the newest page.
      start = Math.max(0, stream.length - limit);
      let bytes = 0;
      for (let i = stream.length - 1; i >= start; i--) {
        bytes += eventBytes(stream[i] as FakeLogEvent);
        if (bytes > getLogEventsMaxBytes && i < stream.length - 1) {
          start = i + 1;
          break;
        }
      }
    }
    const gapBefore = (i: number) =>
      this.gapMs !== undefined &&
      i > 0 &&
      i < stream.length &&
      (stream[i] as FakeLogEvent).timestamp - (stream[i - 1] as FakeLogEvent).timestamp > this.gapMs;
    if (gapBefore(start) && !gapCrossed) {
      // The stretch of time before this event holds nothing: an empty page, and a new token past it.
      return {
        events: [],
        nextForwardToken: forwardToken(start, true),
        nextBackwardToken: `b/${forwardToken(start).slice(2)}`,
      };
    }
    let end = Math.min(stream.length, start + limit);
    let bytes = start < end ? eventBytes(stream[start] as FakeLogEvent) : 0;
    for (let i = start + 1; i < end; i++) {
      bytes += eventBytes(stream[i] as FakeLogEvent);
      if (gapBefore(i) || bytes > getLogEventsMaxBytes) {
        end = i;
        break;
      }
    }
    const events = stream.slice(start, end);
    const next = start + events.length;
    return {
      events,
      // At the end of the stream the token passed in comes back unchanged.
      nextForwardToken:
        events.length === 0 && typeof input.nextToken === "string" ? input.nextToken : forwardToken(next),
      nextBackwardToken: `b/${String(start).padStart(12, "0")}`,
    };
  }

  private createLogGroup(input: Json): Json {
    const name = String(input.logGroupName ?? "");
    if (!/^[\w\-./#]{1,512}$/.test(name)) {
      throw new AwsApiError(
        "InvalidParameterException",
        `1 validation error detected: Value '${name}' at 'logGroupName' failed to satisfy constraint`,
      );
    }
    if (this.groups.has(name))
      throw new AwsApiError("ResourceAlreadyExistsException", "The specified log group already exists");
    const group = this.addGroup(name);
    if (typeof input.kmsKeyId === "string") group.kmsKeyId = input.kmsKeyId;
    group.tags = { ...((input.tags as Record<string, string>) ?? {}) };
    return {};
  }

  private deleteLogGroup(input: Json): Json {
    this.requireGroup(input);
    this.groups.delete(String(input.logGroupName));
    return {};
  }

  private describeLogGroups(input: Json, region: string): Json {
    const prefix = String(input.logGroupNamePrefix ?? "");
    const logGroups = [...this.groups.values()]
      .filter((g) => g.logGroupName.startsWith(prefix))
      .sort((a, b) => a.logGroupName.localeCompare(b.logGroupName))
      .map((g) => ({
        logGroupName: g.logGroupName,
        creationTime: g.creationTime,
        retentionInDays: g.retentionInDays,
        kmsKeyId: g.kmsKeyId,
        storedBytes: [...g.streams.values()].flat().reduce((n, e) => n + e.message.length, 0),
        arn: `arn:aws:logs:${region}:${this.account}:log-group:${g.logGroupName}:*`,
        logGroupArn: `arn:aws:logs:${region}:${this.account}:log-group:${g.logGroupName}`,
      }));
    return { logGroups };
  }

  private putRetentionPolicy(input: Json): Json {
    const group = this.requireGroup(input);
    const allowed = [
      1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
    ];
    const days = Number(input.retentionInDays);
    if (!allowed.includes(days)) {
      throw new AwsApiError(
        "InvalidParameterException",
        `1 validation error detected: Value '${days}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set`,
      );
    }
    group.retentionInDays = days;
    return {};
  }

  private deleteRetentionPolicy(input: Json): Json {
    const group = this.requireGroup(input);
    delete group.retentionInDays;
    return {};
  }
}
