/**
 * A job's log from CloudWatch Logs. The awslogs driver writes the job
 * container's output to `<group>/<prefix>/job/<task id>`; this reads it with
 * GetLogEvents from the head, page by page, following `nextForwardToken`.
 *
 * Every line carries a cursor: the forward token of the page it came from
 * plus how many events of that page were consumed, so a caller can resume
 * right after any line. Following ends once the task has stopped and the
 * stream has then been quiet for a grace period: CloudWatch delivers lines
 * late (ingestion lag), so one read after the stop would lose the last ones.
 * Every read takes a token from a budget shared by all followers of the
 * region, since CloudWatch's GetLogEvents quota is per account and Region.
 */
import type { CloudWatchLogsClient, OutputLogEvent } from "@aws-sdk/client-cloudwatch-logs";
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
import { translateAwsError } from "./errors.js";

/** A position in a log stream: a forward token (undefined = head) and events of its page already consumed. */
export type LogCursor = LogPosition;

export { encodeLogCursor } from "@flotilla/plugin-sdk";

/** Decodes JobLogsRequest.cursor; "" means the beginning. */
export function decodeLogCursor(text: string): LogCursor {
  return decodeCursor(text, { issuer: "aws" });
}

/** Where a job's log is and how to follow it. */
export interface LogSource {
  /** The CloudWatch Logs client for the task's region. */
  logs: CloudWatchLogsClient;
  /** Log group name. */
  group: string;
  /** Log stream name. */
  stream: string;
  /** Resume position. */
  cursor: LogCursor;
  /** Keep reading until the task stopped and the stream is drained. */
  follow: boolean;
  /** True once the task has stopped (asked only while following and caught up). */
  isFinished: () => Promise<boolean>;
  /** Wait between reads when caught up. */
  pollIntervalMs: number;
  /**
   * After the task stopped, keep reading until no new line arrived for this
   * long: lines reach CloudWatch seconds after the container wrote them (the
   * awslogs driver sends them in batches, at the latest every 5 s, then
   * CloudWatch ingests them), so the end of the task is not the end of its
   * log. 0 reads once more after the stop.
   */
  drainGraceMs: number;
  /** Ends the stream early (caller went away). */
  signal: AbortSignal;
  /**
   * The GetLogEvents budget shared by every follower of the region: the quota
   * is per account and Region, not per stream, so each read takes a token.
   */
  budget?: RequestBudget;
  /** The clock for the grace period, in ms; default Date.now (tests pass the fake's). */
  now?: () => number;
  /** Waits between reads; default a timer that the signal cuts short (tests pass one that moves a fake clock). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/**
 * The default of {@link LogSource.drainGraceMs}: twice the awslogs driver's
 * longest batching delay (5 s, moby daemon/logger/awslogs
 * `batchPublishFrequency`), which leaves room for CloudWatch's own ingestion.
 * AWS publishes no bound on the lag; raise it (config `logDrainGraceMs`) if
 * the last lines of jobs go missing.
 */
export const defaultLogDrainGraceMs = 10_000;

/**
 * The default GetLogEvents budget per region: below the quota of 25
 * transactions per second per account and Region (AWS General Reference,
 * "Amazon CloudWatch Logs endpoints and quotas"), leaving room for other
 * clients of the account (the console, other tools). Its burst is a quarter of
 * it, so no second sees more than rate + burst = 25 calls.
 */
export const defaultLogRequestsPerSecond = 20;

/** The burst of a GetLogEvents budget of `ratePerSecond`: a quarter of it, at least 1. */
export function logRequestBurst(ratePerSecond: number): number {
  return Math.max(1, Math.floor(ratePerSecond / 4));
}

/** Yields the log's lines page by page, each line with its resume cursor. */
export async function* readJobLog(source: LogSource): AsyncGenerator<LogLineInit[]> {
  const { GetLogEventsCommand } = await import("@aws-sdk/client-cloudwatch-logs");
  yield* followLog<OutputLogEvent>({
    from: source.cursor,
    signal: source.signal,
    budget: source.budget,
    ...(source.now ? { now: source.now } : {}),
    ...(source.sleep ? { sleep: source.sleep } : {}),
    follow: source.follow ? source : undefined,
    async readPage(token, signal) {
      const page = await source.logs.send(
        new GetLogEventsCommand({
          logGroupName: source.group,
          logStreamName: source.stream,
          startFromHead: true,
          ...(token ? { nextToken: token } : {}),
        }),
        { abortSignal: signal },
      );
      // At the end of the stream CloudWatch "returns the same token you passed in"; an empty page with a
      // new token is not the end ("can return empty results while there are more log events available
      // through the token", API reference, GetLogEvents).
      return { entries: page.events ?? [], nextToken: page.nextForwardToken };
    },
    toLine: (event) => ({
      // awslogs merges stdout and stderr into one stream.
      stream: LogStream.UNSPECIFIED,
      text: (event.message ?? "").replace(/\r?\n$/, ""),
      ...(event.timestamp !== undefined ? { time: timestampFromMs(event.timestamp) } : {}),
    }),
    // A missing stream (ResourceNotFoundException → NotFound) is a container that has not started yet.
    classifyError: (err) => classifyReadError(translateAwsError(err, "CloudWatch Logs GetLogEvents")),
  });
}
