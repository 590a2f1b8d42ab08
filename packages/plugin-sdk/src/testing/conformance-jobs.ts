/**
 * The conformance suite's job checks (conformance.ts runs them): a quick job run, deduplicated, reported,
 * logged, resumed and cancelled once finished; unknown handles and bad specs answered with the codes the
 * contract names; and a long-running job followed until the caller gives up, then cancelled.
 */
import { randomUUID } from "node:crypto";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { DurationSchema } from "@bufbuild/protobuf/wkt";
import {
  Code,
  isFlotillaError,
  type JobHandle,
  type JobSpecSchema,
  JobState,
  type JobStatus,
  type LogLine,
} from "@flotilla/protocol";
import { HEALTH_SERVICE_NAME, health } from "@flotilla/protocol/wire";
import {
  codeOf,
  describeError,
  duration,
  failureOf,
  isTerminal,
  NotApplicable,
  type RecordCheck,
  type RunnerClient,
  readLog,
  sleep,
  waitFor,
} from "./conformance-check.js";
import type { PluginClient } from "./plugin-client.js";

/** A job the suite runs, and where it came from, for the report. */
export interface SuiteJob {
  readonly spec: MessageInitShape<typeof JobSpecSchema>;
  /** "given" (an option, --job) or "the registry's" (ContractRegistry.conformance_jobs). */
  readonly source: string;
}

/** What the job checks need besides the runner. */
export interface JobCheckContext {
  readonly runner: RunnerClient | undefined;
  /** Why the runner checks do not apply, when `runner` is undefined. */
  readonly noRunner: string;
  readonly quick: SuiteJob | undefined;
  readonly longRunning: SuiteJob | undefined;
  /** The health client, to see that the plugin survived callers that went away. */
  readonly health: () => PluginClient<typeof health.Health>;
  /** How long a cancelled job may take to end. */
  readonly settleMs: number;
}

/** How long a follow of the long-running job runs before its deadline passes, and before it is cancelled. */
const FOLLOW_DEADLINE_MS = 1_500;
const FOLLOW_CANCEL_MS = 500;

const quickNames = [
  "runs a job and answers with its handle",
  "runs a job once for a repeated idempotency key",
  "reports the job's end with its real exit code",
  "ends a followed log once the job has ended and its log is drained",
  "resumes the log from a cursor with no gap or repeat",
  "treats cancelling a finished job as no error",
  "answers an unknown job handle with NOT_FOUND on every call",
  "answers a batch status call in request order, with per-job errors",
  "refuses a bad job spec with INVALID_ARGUMENT naming the field",
] as const;

const longNames = [
  "ends a followed log at the caller's deadline or cancel, and stays healthy",
  "cancels a running job, which ends CANCELLED and its followed log with it",
] as const;

/** Runs the job checks, each recorded, and cancels what they started. */
export async function jobChecks(record: RecordCheck, context: JobCheckContext): Promise<void> {
  const { runner } = context;
  const skip = async (names: readonly string[], reason: string) => {
    for (const name of names) {
      await record(name, async () => {
        throw new NotApplicable(reason);
      });
    }
  };
  if (!runner) return skip([...quickNames, ...longNames], context.noRunner);
  const leftovers: JobHandle[] = [];
  try {
    if (context.quick) await quickJobChecks(record, runner, context.quick, leftovers);
    else {
      await skip(
        quickNames,
        "no job to run: the registry names no conformance_jobs.quick and none was given (--job); only the plugin knows what a tiny job looks like",
      );
    }
    if (context.longRunning) await longJobChecks(record, runner, context, context.longRunning, leftovers);
    else {
      await skip(
        longNames,
        "no long-running job: the registry names no conformance_jobs.long_running and none was given (--long-job)",
      );
    }
  } finally {
    // A job the checks started and did not see end (a long job, a bad spec that was run) is cancelled.
    for (const handle of leftovers) {
      await runner
        .unary("cancelJob", { handle, reason: "conformance check cleanup" }, { deadline: 5_000 })
        .catch(() => undefined);
    }
  }
}

async function quickJobChecks(
  record: RecordCheck,
  runner: RunnerClient,
  job: SuiteJob,
  leftovers: JobHandle[],
): Promise<void> {
  const [run, dedupe, exitCode, follow, resume, cancelFinished, unknownHandle, batch, badSpec] = quickNames;
  const idempotencyKey = `conformance-${randomUUID()}`;
  let handle: JobHandle | undefined;
  const needHandle = (): JobHandle => {
    if (!handle) throw new NotApplicable("no job was started");
    return handle;
  };
  await record(run, async () => {
    const response = await runner.unary("runJob", { spec: { ...job.spec, idempotencyKey } });
    if (!response.handle?.jobId) throw new Error("RunJob answered without a handle and job id");
    handle = response.handle;
    return `job ${handle.jobId} (${job.source} job)`;
  });
  await record(dedupe, async () => {
    const first = needHandle();
    const again = await runner.unary("runJob", { spec: { ...job.spec, idempotencyKey } });
    if (again.handle?.jobId !== first.jobId) {
      if (again.handle) leftovers.push(again.handle);
      throw new Error(
        `a second RunJob with idempotency key ${idempotencyKey} started job ${again.handle?.jobId}, not ${first.jobId}: a host retrying a lost response would run the job twice`,
      );
    }
    if (!again.deduplicated) throw new Error("the repeated RunJob returned the job but did not set deduplicated");
    return "the repeat returned the first job, deduplicated";
  });
  let final: JobStatus | undefined;
  await record(exitCode, async () => {
    const started = needHandle();
    for (;;) {
      const { status } = await runner.unary("jobStatus", { handle: started });
      if (!status) throw new Error("JobStatus answered without a status");
      if (isTerminal(status.state)) {
        final = status;
        break;
      }
      await sleep(200);
    }
    if (final.state !== JobState.SUCCEEDED) {
      throw new Error(
        `the job ended ${JobState[final.state]}${final.reason ? ` (${final.reason})` : ""}; the ${job.source} job must succeed`,
      );
    }
    if (final.exitCode !== 0) {
      throw new Error(
        `a SUCCEEDED job reports exit code ${final.exitCode === undefined ? "absent" : final.exitCode}; report the real exit code, 0`,
      );
    }
    return "SUCCEEDED with exit code 0";
  });
  let lines: LogLine[] = [];
  await record(follow, async () => {
    lines = await readLog(runner, needHandle(), "", true);
    if (lines.length === 0)
      throw new Error(`the followed log ended with no line; the ${job.source} job must print one`);
    return `${lines.length} line(s)`;
  });
  await record(resume, async () => {
    if (lines.length === 0) throw new NotApplicable("no log lines to resume from");
    if (lines.some((line) => line.cursor === "")) {
      throw new NotApplicable("the lines carry no cursor, so a host cannot resume this plugin's logs");
    }
    for (const from of new Set([0, Math.floor(lines.length / 2), lines.length - 1])) {
      const rest = await readLog(runner, needHandle(), (lines[from] as LogLine).cursor, false);
      const expected = lines.slice(from + 1).map(lineKey);
      const got = rest.map(lineKey);
      if (JSON.stringify(got) !== JSON.stringify(expected)) {
        throw new Error(
          `from the cursor of line ${from + 1} the log gave ${got.length} line(s) where ${expected.length} follow it: a resumed follower would ${got.length > expected.length ? "repeat" : "lose"} lines`,
        );
      }
    }
    return "resumed from the first, a middle and the last line";
  });
  await record(cancelFinished, async () => {
    const { status } = await runner.unary("cancelJob", { handle: needHandle(), reason: "conformance check" });
    if (status && status.state !== JobState.SUCCEEDED) {
      throw new Error(`cancelling the finished job changed its state to ${JobState[status.state]}`);
    }
    return "CancelJob answered, the job stayed SUCCEEDED";
  });
  const unknown: JobHandle = {
    ...(handle ?? ({ jobId: "" } as JobHandle)),
    jobId: unknownJobIdLike(handle?.jobId ?? ""),
  };
  await record(unknownHandle, async () => {
    const wrong: string[] = [];
    const status = await failureOf(runner.unary("jobStatus", { handle: unknown }));
    if (!isFlotillaError(status, Code.NotFound)) {
      wrong.push(`JobStatus of an unknown job answered ${status === undefined ? "a status" : codeOf(status)}`);
    }
    const logLines: LogLine[] = [];
    const logs = await failureOf(readLog(runner, unknown, "", false, { lines: logLines }));
    if (!isFlotillaError(logs, Code.NotFound)) {
      wrong.push(`JobLogs answered ${logs === undefined ? `${logLines.length} line(s)` : codeOf(logs)}`);
    }
    const cancel = await failureOf(runner.unary("cancelJob", { handle: unknown, reason: "conformance check" }));
    if (!isFlotillaError(cancel, Code.NotFound)) {
      wrong.push(`CancelJob answered ${cancel === undefined ? "a status" : codeOf(cancel)}`);
    }
    if (wrong.length > 0) throw new Error(`${wrong.join("; ")}; answer NOT_FOUND, so a host knows the job is gone`);
    return "NOT_FOUND from JobStatus, JobLogs and CancelJob";
  });
  await record(batch, async () => {
    const known = needHandle();
    const { results } = await runner.unary("batchJobStatus", { handles: [known, unknown] });
    const order = results.map((result) => result.handle?.jobId);
    if (JSON.stringify(order) !== JSON.stringify([known.jobId, unknown.jobId])) {
      throw new Error(`results came back for ${order.join(", ")}; answer one result per handle, in request order`);
    }
    const missing = results[1]?.result;
    if (missing?.case !== "error" || missing.value.code !== "NOT_FOUND") {
      throw new Error(`the unknown job's result is ${missing?.case ?? "empty"}; report it as an error NOT_FOUND`);
    }
    if (results[0]?.result.case !== "status") throw new Error("the known job's result has no status");
    return "results in request order, NOT_FOUND for the unknown job";
  });
  await record(badSpec, async () => {
    // The contract's one rule on bad specs that holds for every provider: JobSpec.timeout is never negative.
    const timeout = create(DurationSchema, { seconds: -1n });
    const spec = { ...job.spec, idempotencyKey: `conformance-${randomUUID()}`, timeout };
    let started: JobHandle | undefined;
    const error = await failureOf(
      runner.unary("runJob", { spec }).then((response) => {
        started = response.handle;
      }),
    );
    if (error === undefined) {
      if (started) leftovers.push(started);
      throw new Error(
        `RunJob with a negative timeout (-1 s) started job ${started?.jobId}; refuse it with INVALID_ARGUMENT naming the timeout field`,
      );
    }
    if (!isFlotillaError(error, Code.InvalidArgument)) {
      throw new Error(
        `RunJob with a negative timeout (-1 s) answered ${codeOf(error)}; answer INVALID_ARGUMENT, which a host does not retry`,
      );
    }
    if (!/timeout/i.test(error.message)) {
      throw new Error(
        `RunJob with a negative timeout answered INVALID_ARGUMENT without naming the field ("${error.message}"); say which field is wrong`,
      );
    }
    return `INVALID_ARGUMENT: ${error.message}`;
  });
}

async function longJobChecks(
  record: RecordCheck,
  runner: RunnerClient,
  context: JobCheckContext,
  job: SuiteJob,
  leftovers: JobHandle[],
): Promise<void> {
  const [followUntilCaller, cancelRunning] = longNames;
  let handle: JobHandle | undefined;
  let ended = false;
  const stateNow = async (of: JobHandle): Promise<JobState> => {
    const { status } = await runner.unary("jobStatus", { handle: of }, { deadline: 5_000 });
    return status?.state ?? JobState.UNSPECIFIED;
  };
  await record(followUntilCaller, async () => {
    const response = await runner.unary("runJob", {
      spec: { ...job.spec, idempotencyKey: `conformance-${randomUUID()}` },
    });
    if (!response.handle?.jobId) throw new Error("RunJob of the long-running job answered without a handle and job id");
    const started = response.handle;
    handle = started;
    leftovers.push(started);
    const lines: LogLine[] = [];
    const endedEarly = async (when: string): Promise<Error> => {
      const state = await stateNow(started);
      if (isTerminal(state)) {
        ended = true;
        return new Error(
          `the long-running job ended ${JobState[state]} ${when}; the ${job.source} long-running job must run until it is cancelled`,
        );
      }
      return new Error(
        `a followed log of the running job ended as complete (status OK) ${when}, after ${lines.length} line(s), while the job is still ${JobState[state]}; keep a follow open until the job has ended, and end one the caller cut short with DEADLINE_EXCEEDED or CANCELLED, never OK`,
      );
    };
    const byDeadline = await failureOf(readLog(runner, started, "", true, { deadline: FOLLOW_DEADLINE_MS, lines }));
    if (byDeadline === undefined)
      throw await endedEarly(`with the caller's deadline set to ${duration(FOLLOW_DEADLINE_MS)}`);
    if (!isFlotillaError(byDeadline, Code.DeadlineExceeded) && !isFlotillaError(byDeadline, Code.Canceled)) {
      throw new Error(
        `a followed log of the running job failed with ${codeOf(byDeadline)} before the caller's ${duration(FOLLOW_DEADLINE_MS)} deadline; keep following until the job ends or the caller's deadline passes`,
      );
    }
    lines.length = 0;
    const cancel = new AbortController();
    setTimeout(() => cancel.abort(), FOLLOW_CANCEL_MS).unref();
    const byCancel = await failureOf(readLog(runner, started, "", true, { signal: cancel.signal, lines }));
    if (byCancel === undefined)
      throw await endedEarly(`with the caller cancelling it after ${duration(FOLLOW_CANCEL_MS)}`);
    if (!isFlotillaError(byCancel, Code.Canceled)) {
      throw new Error(
        `a followed log of the running job failed with ${codeOf(byCancel)} before the caller cancelled it; keep following until the job ends or the caller cancels`,
      );
    }
    const serving = await context
      .health()
      .unary("check", { service: HEALTH_SERVICE_NAME }, { deadline: 5_000 })
      .catch((error: unknown) => {
        throw new Error(
          `after two followers went away (deadline, cancel) the plugin no longer answers Health: ${describeError(error)}; a caller that gives up on a stream must not harm the plugin`,
        );
      });
    if (serving.status !== health.HealthCheckResponse_ServingStatus.SERVING) {
      throw new Error(
        `after two followers went away the plugin reports ${health.HealthCheckResponse_ServingStatus[serving.status]}; it must stay SERVING`,
      );
    }
    const state = await stateNow(started);
    if (isTerminal(state)) {
      ended = true;
      throw new Error(
        `after its followers went away the job is ${JobState[state]}: a follower that leaves must not end the job, only CancelJob does`,
      );
    }
    return `DEADLINE_EXCEEDED at the caller's ${duration(FOLLOW_DEADLINE_MS)} deadline, CANCELLED when the caller cancelled; the plugin still SERVING, the job still ${JobState[state]}`;
  });
  await record(cancelRunning, async () => {
    if (!handle) throw new NotApplicable("the long-running job did not start");
    if (ended) throw new NotApplicable("the long-running job ended by itself, so there was nothing running to cancel");
    const running = handle;
    // A follower opened before the cancel must see the job's end.
    const follower = new AbortController();
    const followed = readLog(runner, running, "", true, { signal: follower.signal }).then(
      () => "ended" as const,
      (error: unknown) => error,
    );
    try {
      const { status: answered } = await runner.unary("cancelJob", { handle: running, reason: "conformance check" });
      let state: JobState = JobState.UNSPECIFIED;
      const stopped = await waitFor(async () => {
        state = await stateNow(running);
        return isTerminal(state);
      }, context.settleMs);
      if (!stopped) {
        throw new Error(
          `still ${JobState[state]} ${duration(context.settleMs)} after CancelJob${answered ? ` (which answered ${JobState[answered.state]})` : ""}; stop the job and report it CANCELLED`,
        );
      }
      if ((state as JobState) !== JobState.CANCELLED) {
        throw new Error(`the job ended ${JobState[state]} after CancelJob; a job stopped by CancelJob ends CANCELLED`);
      }
      const follow = await Promise.race([followed, sleep(context.settleMs).then(() => "open" as const)]);
      if (follow === "open") {
        throw new Error(
          `a follower of its log was still open ${duration(context.settleMs)} after the job ended CANCELLED; end a follow once the job has ended and its log is drained`,
        );
      }
      if (follow !== "ended") {
        throw new Error(
          `a follower of its log failed with ${codeOf(follow)} when the job was cancelled; end the stream normally once the log is drained`,
        );
      }
      return "CANCELLED, and a follower of its log saw the end";
    } finally {
      follower.abort();
    }
  });
}

function lineKey(line: LogLine): string {
  return `${line.stream}:${line.text}:${line.cursor}`;
}

/**
 * A job id in the plugin's own format that names no job: the known id with its last run of letters and
 * digits replaced, so a plugin that checks the shape of ids (an ECS task ARN) still looks the job up.
 */
export function unknownJobIdLike(jobId: string): string {
  const match = /[0-9A-Za-z]{4,}(?=[^0-9A-Za-z]*$)/.exec(jobId);
  if (!match) return `conformance-no-such-job-${randomUUID()}`;
  const run = match[0];
  const replaced = run.replace(/[0-9A-Za-z]/g, (c) => (c === "0" ? "1" : "0"));
  return jobId.slice(0, match.index) + replaced + jobId.slice(match.index + run.length);
}
