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
import type { CloudWatchLogsClient, GetLogEventsCommandOutput } from "@aws-sdk/client-cloudwatch-logs";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { RequestBudget } from "@flotilla/plugin-sdk";
import { Code, InvalidArgumentError, type LogLineSchema, LogStream } from "@flotilla/protocol";
import { translateAwsError } from "./errors.js";

type LogLineInit = MessageInitShape<typeof LogLineSchema>;

/** A position in a log stream: a forward token (undefined = head) and events of its page already consumed. */
export interface LogCursor {
  token: string | undefined;
  skip: number;
}

/** Encodes a cursor as the opaque string LogLine.cursor carries. */
export function encodeLogCursor(cursor: LogCursor): string {
  return Buffer.from(JSON.stringify({ t: cursor.token ?? null, n: cursor.skip })).toString("base64url");
}

/** Decodes LogLine.cursor; "" means the beginning. */
export function decodeLogCursor(text: string): LogCursor {
  if (text === "") return { token: undefined, skip: 0 };
  try {
    const raw = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as { t?: unknown; n?: unknown };
    if ((raw.t === null || typeof raw.t === "string") && Number.isInteger(raw.n) && (raw.n as number) >= 0) {
      return { token: raw.t ?? undefined, skip: raw.n as number };
    }
  } catch {
    // fall through to the error below
  }
  throw new InvalidArgumentError(
    "JobLogsRequest.cursor: not a cursor the aws plugin issued; pass a LogLine.cursor from an earlier JobLogs stream, or empty to start at the beginning",
  );
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

/** The longest a follower backs off after ThrottlingException. */
export const maxThrottleBackoffMs = 30_000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Yields the log's lines page by page, each line with its resume cursor. */
export async function* readJobLog(source: LogSource): AsyncGenerator<LogLineInit[]> {
  const { GetLogEventsCommand } = await import("@aws-sdk/client-cloudwatch-logs");
  const now = source.now ?? Date.now;
  const wait = source.sleep ?? sleep;
  let { token, skip } = source.cursor;
  /** When the task was first seen stopped, or when the last new line came after that. */
  let quietSince: number | undefined;
  /** How long the last back-off after ThrottlingException was; 0 after a read that went through. */
  let throttleBackoffMs = 0;
  while (!source.signal.aborted) {
    let page: GetLogEventsCommandOutput | undefined;
    try {
      await source.budget?.take(source.signal);
    } catch (err) {
      if (source.signal.aborted) return;
      throw err;
    }
    try {
      page = await source.logs.send(
        new GetLogEventsCommand({
          logGroupName: source.group,
          logStreamName: source.stream,
          startFromHead: true,
          ...(token ? { nextToken: token } : {}),
        }),
        { abortSignal: source.signal },
      );
    } catch (err) {
      const error = translateAwsError(err, "CloudWatch Logs GetLogEvents");
      if (source.signal.aborted) return;
      if ((err as { name?: unknown }).name === "ThrottlingException" && source.follow) {
        // The account's quota is exhausted (other followers, other clients):
        // polling on at the usual pace keeps it so. Back off exponentially,
        // and hold every follower of the budget back too.
        throttleBackoffMs = Math.min(maxThrottleBackoffMs, Math.max(source.pollIntervalMs, throttleBackoffMs * 2));
        source.budget?.backOff(throttleBackoffMs);
        yield [
          {
            stream: LogStream.SYSTEM,
            text: `warning: reading the log failed and will be retried: ${error.message} (throttled: backing off ${throttleBackoffMs} ms)`,
            cursor: encodeLogCursor({ token, skip }),
          },
        ];
        await wait(throttleBackoffMs, source.signal);
        continue;
      }
      // The stream appears when the container starts; before that (or for a
      // task that never started) there is simply nothing to read yet.
      if (error.code !== Code.NotFound) {
        if (!(source.follow && error.retriable)) throw error;
        yield [
          {
            stream: LogStream.SYSTEM,
            text: `warning: reading the log failed and will be retried: ${error.message}`,
            cursor: encodeLogCursor({ token, skip }),
          },
        ];
      }
    }
    if (page) throttleBackoffMs = 0;
    const events = (page?.events ?? []).slice(skip);
    const nextToken = page?.nextForwardToken;
    if (events.length > 0) {
      const requestToken = token;
      const consumedBefore = skip;
      yield events.map((event, i): LogLineInit => {
        const last = i === events.length - 1;
        const cursor =
          last && nextToken ? { token: nextToken, skip: 0 } : { token: requestToken, skip: consumedBefore + i + 1 };
        return {
          // awslogs merges stdout and stderr into one stream.
          stream: LogStream.UNSPECIFIED,
          text: (event.message ?? "").replace(/\r?\n$/, ""),
          ...(event.timestamp !== undefined ? { time: timestampFromMs(event.timestamp) } : {}),
          cursor: encodeLogCursor(cursor),
        };
      });
      if (nextToken) {
        token = nextToken;
        skip = 0;
      } else skip += events.length;
      if (quietSince !== undefined) quietSince = now();
      continue;
    }
    if (nextToken && nextToken !== token) {
      // Not caught up: CloudWatch "can return empty results while there are
      // more log events available through the token" (API reference,
      // GetLogEvents), e.g. across a gap in time. Only a token equal to the
      // one passed in marks the end of the stream ("If you have reached the
      // end of the stream, it returns the same token you passed in",
      // `nextForwardToken`). Move on to the new token; no line was skipped,
      // so cursors stay valid.
      token = nextToken;
      skip = 0;
      continue;
    }
    if (!source.follow) return;
    if (quietSince === undefined) {
      if (await source.isFinished()) quietSince = now();
    } else if (now() - quietSince >= source.drainGraceMs) {
      // Stopped, and nothing new for the whole grace period: the stream is drained.
      return;
    }
    await wait(source.pollIntervalMs, source.signal);
  }
}
