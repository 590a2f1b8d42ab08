/**
 * The CloudWatch Logs part of the AWS fake: log groups, streams and events,
 * with forward tokens that behave like the real ones (a token at the end of
 * a stream comes back unchanged until new events arrive).
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

const tokenPattern = /^f\/(\d{12})$/;
/**
 * The most events one GetLogEvents page holds: without a limit CloudWatch
 * returns "as many log events as can fit in a response size of 1 MB (up to
 * 10,000 log events)" (CloudWatch Logs API reference, GetLogEvents). The fake
 * pages by this count only; it does not cut pages at 1 MB.
 */
export const getLogEventsMaxEvents = 10_000;

/** The in-memory CloudWatch Logs service. */
export class FakeCloudWatchLogs {
  private readonly groups = new Map<string, LogGroup>();

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
    const stream = group.streams.get(String(input.logStreamName ?? ""));
    if (!stream) throw new AwsApiError("ResourceNotFoundException", "The specified log stream does not exist.");
    const limit = Math.min(Number(input.limit ?? getLogEventsMaxEvents), getLogEventsMaxEvents);
    let start: number;
    if (typeof input.nextToken === "string") {
      const match = tokenPattern.exec(input.nextToken);
      if (!match) throw new AwsApiError("InvalidParameterException", "The specified nextToken is invalid.");
      start = Number(match[1]);
    } else if (input.startFromHead === true) {
      start = 0;
    } else {
      // Without startFromHead, CloudWatch returns the newest page.
      start = Math.max(0, stream.length - limit);
    }
    const events = stream.slice(start, start + limit);
    const next = start + events.length;
    return {
      events,
      nextForwardToken: `f/${String(next).padStart(12, "0")}`,
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
