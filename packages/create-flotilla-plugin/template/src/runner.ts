// IaCProviderRunner: the contract's job calls, carried out on the cloud (cloud.ts). Each handler maps the
// contract onto the cloud's API and the cloud's answers back onto the contract; the comments say which
// rule of the contract (proto/flotilla/plugin/v1/runner.proto) each part keeps.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type IaCProviderRunnerService,
  InvalidArgumentError,
  type JobHandle,
  JobState,
  jobTimeoutMs,
  LogStream,
  NotFoundError,
  resolveSecretEnv,
  resourceNameFor,
  type ServiceImpl,
  toJobError,
} from "@flotilla/plugin-sdk";
import { type CloudJob, type CloudJobState, type FakeCloud, JobNameTakenError } from "./cloud.js";

/** How long a followed log waits before asking the cloud for new lines again. */
const LOG_POLL_MS = 200;

const states: Record<CloudJobState, JobState> = {
  PENDING: JobState.PENDING,
  RUNNING: JobState.RUNNING,
  SUCCEEDED: JobState.SUCCEEDED,
  FAILED: JobState.FAILED,
  STOPPED: JobState.CANCELLED,
};

const ended: ReadonlySet<CloudJobState> = new Set(["SUCCEEDED", "FAILED", "STOPPED"]);

/** What the runner needs: the provider's name (it goes into every handle), the cloud, the configured region. */
export interface RunnerOptions {
  readonly provider: string;
  readonly cloud: FakeCloud;
  /** The region from the provider config; throws when Configure has not been called yet. */
  readonly region: () => string;
}

/** The runner service handed to serve(). */
export function createRunner({ provider, cloud, region }: RunnerOptions): ServiceImpl<typeof IaCProviderRunnerService> {
  const statusOf = (job: CloudJob) => ({
    handle: { provider, jobId: job.id },
    state: states[job.state],
    // The real exit code, 0 included; absent while the job runs.
    exitCode: job.exitCode,
    reason: job.stoppedReason ?? "",
    createdAt: timestampFromDate(job.createdAt),
    startedAt: job.startedAt && timestampFromDate(job.startedAt),
    finishedAt: job.finishedAt && timestampFromDate(job.finishedAt),
  });

  const find = async (handle: JobHandle | undefined): Promise<CloudJob> => {
    const [job] = await cloud.describeJobs([handle?.jobId ?? ""]);
    if (!job) throw new NotFoundError(`job ${JSON.stringify(handle?.jobId)} does not exist in ${provider}`);
    return job;
  };

  return {
    async runJob({ spec }) {
      const command = [...(spec?.command ?? []), ...(spec?.args ?? [])];
      if (!spec || command.length === 0) {
        throw new InvalidArgumentError('spec.command: empty; give the job a command, e.g. ["hello", "world"]');
      }
      const exitCode = spec.env.EXIT_CODE ?? "0";
      if (!/^\d{1,3}$/.test(exitCode) || Number(exitCode) > 255) {
        throw new InvalidArgumentError("spec.env.EXIT_CODE: must be a whole number from 0 to 255, e.g. 3");
      }
      // secret:// references are resolved here, on the plugin's side; a value is never logged.
      const secrets = await resolveSecretEnv(spec.secretEnv, {
        env: (name, where) => {
          const value = process.env[name];
          if (value === undefined) throw new NotFoundError(`${where}: ${name} is not set in the plugin's environment`);
          return value;
        },
      });
      // The same idempotency key gives the same job name, and the cloud refuses a second job under one name:
      // a retried RunJob (its answer was lost) finds the first job instead of starting another.
      const name = resourceNameFor(spec.idempotencyKey || randomUUID(), {
        prefix: "job-",
        maxLength: 63,
        allowed: /[a-z0-9-]/,
        lowerCase: true,
      });
      const timeoutMs = jobTimeoutMs(spec.timeout, "spec.timeout");
      try {
        const job = await cloud.startJob({
          name,
          region: region(),
          command,
          env: { ...spec.env, ...secrets },
          ...(timeoutMs === undefined ? {} : { timeoutMs }),
        });
        return { handle: { provider, jobId: job.id } };
      } catch (error) {
        if (!(error instanceof JobNameTakenError)) throw error;
        return { handle: { provider, jobId: error.existingJobId }, deduplicated: true };
      }
    },

    async jobStatus({ handle }) {
      return { status: statusOf(await find(handle)) };
    },

    // One cloud call for the whole batch; one result per handle, in request order, and a job that cannot be
    // read is reported in its result, not as a failed call.
    async batchJobStatus({ handles }) {
      const found = new Map((await cloud.describeJobs(handles.map((h) => h.jobId))).map((job) => [job.id, job]));
      return {
        results: handles.map((handle) => {
          const job = found.get(handle.jobId);
          return job
            ? { handle, result: { case: "status" as const, value: statusOf(job) } }
            : {
                handle,
                result: {
                  case: "error" as const,
                  value: toJobError(new NotFoundError(`job ${handle.jobId} does not exist in ${provider}`)),
                },
              };
        }),
      };
    },

    // Each line's cursor is its sequence number: a caller resumes after the line that carried it. Without
    // follow the stream ends at the current end of the log; with follow, once the job has ended and its log
    // is drained. `signal` aborts when the caller goes away, which ends the wait between polls.
    async *jobLogs({ handle, follow, cursor }, { signal }) {
      if (!/^\d*$/.test(cursor)) {
        throw new InvalidArgumentError(
          `cursor: ${JSON.stringify(cursor)} is not one this plugin gave; pass a LogLine.cursor, or empty`,
        );
      }
      let after = Number(cursor || "0");
      for (;;) {
        // The state is read before the page: a job already ended here has all of its log in the page.
        const job = await find(handle);
        const events = (await cloud.getLogEvents(job.id, after)) ?? [];
        if (events.length > 0) {
          yield {
            lines: events.map((event) => ({
              stream: LogStream.STDOUT,
              text: event.message,
              cursor: String(event.sequence),
            })),
          };
          after = events[events.length - 1]?.sequence ?? after;
          continue;
        }
        if (!follow || ended.has(job.state)) return;
        await sleep(LOG_POLL_MS, undefined, { signal });
      }
    },

    // Cancelling a finished job is not an error: the job keeps the state it ended in.
    async cancelJob({ handle, reason }) {
      const job = await cloud.stopJob(handle?.jobId ?? "", reason || "cancelled through Flotilla");
      if (!job) throw new NotFoundError(`job ${JSON.stringify(handle?.jobId)} does not exist in ${provider}`);
      return { status: statusOf(job) };
    },
  };
}
