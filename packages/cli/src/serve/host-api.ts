/**
 * The host API (proto/flotilla/host/v1, HostService) over a JobService and a PluginHost: what `flotilla serve`
 * answers clients in any language with. Every answer comes from the job journal through @flotilla/jobs, the
 * module `flotilla run` and `flotilla jobs` use, so a job run through the API is listed, followed and
 * cancelled from the CLI alike, and the other way round.
 *
 * - RunJob records the job and returns once the provider has its handle; the server follows it from then on.
 *   A repeat with the same idempotency key returns the first job's handle, `deduplicated` set.
 * - StreamJobLogs reads the journal's copy of the log; a line's cursor is its position there, so a client
 *   resumes after the last line it got, across server restarts.
 * - Errors keep the contract's classes: a job not in the journal is NOT_FOUND, a bad request INVALID_ARGUMENT,
 *   each naming what is wrong and how to fix it.
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code as ConnectCode, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { PluginHost, PluginState } from "@flotilla/host";
import type { JobService, JournalJob, JournalLogLine, JournalState } from "@flotilla/jobs";
import {
  FailedPreconditionError,
  hostv1,
  InvalidArgumentError,
  type JobHandle,
  JobState,
  type JobStatus,
  JobStatusSchema,
  LogLineSchema,
  LogStream,
  toStatus,
} from "@flotilla/protocol";

/** What the API needs from the server around it. */
export interface HostApiDeps {
  readonly jobs: JobService;
  readonly host: PluginHost;
  /** The provider a RunJob without one goes to. */
  readonly defaultProvider: string;
  /** Providers a RunJob may name (every configured one); their plugins start on first use. */
  readonly providers: readonly string[];
  /** Starts a provider's plugin if it is not running yet (before a job is recorded, so a bad one leaves none). */
  readonly startProvider: (name: string) => Promise<unknown>;
}

const PROVIDER_STATES: Record<PluginState, hostv1.ProviderState> = {
  idle: hostv1.ProviderState.STARTING,
  starting: hostv1.ProviderState.STARTING,
  ready: hostv1.ProviderState.READY,
  restarting: hostv1.ProviderState.RESTARTING,
  "crash-loop": hostv1.ProviderState.CRASH_LOOP,
  stopping: hostv1.ProviderState.STOPPED,
  stopped: hostv1.ProviderState.STOPPED,
};

const JOB_STATES: Record<JournalState, JobState> = {
  dispatching: JobState.PENDING,
  pending: JobState.PENDING,
  running: JobState.RUNNING,
  succeeded: JobState.SUCCEEDED,
  failed: JobState.FAILED,
  cancelled: JobState.CANCELLED,
  unknown: JobState.UNSPECIFIED,
};

const LOG_STREAMS: Record<JournalLogLine["stream"], LogStream> = {
  stdout: LogStream.STDOUT,
  stderr: LogStream.STDERR,
  system: LogStream.SYSTEM,
};

/** The HostService implementation; see the file comment. */
export function hostApi(deps: HostApiDeps): ServiceImpl<typeof hostv1.HostService> {
  return {
    listProviders: () =>
      guarded(async () => {
        const started = new Map(deps.host.list().map((plugin) => [plugin.name, plugin]));
        const names = [...new Set([...deps.providers, ...started.keys()])].sort();
        return create(hostv1.ListProvidersResponseSchema, {
          providers: names.map((name) => {
            const plugin = started.get(name);
            return {
              name,
              // A configured provider whose plugin has not been needed yet starts on its first job.
              state: plugin ? PROVIDER_STATES[plugin.state] : hostv1.ProviderState.STOPPED,
              ...(plugin?.registry ? { registry: plugin.registry } : {}),
            };
          }),
        });
      }),

    runJob: (request) =>
      guarded(async () => {
        const provider = request.provider || deps.defaultProvider;
        if (!deps.providers.includes(provider)) {
          throw new InvalidArgumentError(
            `provider ${JSON.stringify(provider)} is not configured on this host; configured: ${deps.providers.join(", ")} (add it under plugins: in the flotilla.yaml the server was started with)`,
          );
        }
        if (!request.spec || request.spec.command.length === 0) {
          throw new InvalidArgumentError('spec.command is empty: a job needs a command to run, e.g. ["echo", "hello"]');
        }
        await deps.startProvider(provider);
        const tracked = await deps.jobs.run({ provider, spec: request.spec });
        const handle = await tracked.handle.catch(async () => {
          // Following ended without a handle: the provider refused the job; say why, as the journal has it.
          const job = await deps.jobs.find(tracked.id);
          throw new FailedPreconditionError(
            `provider ${JSON.stringify(provider)} did not start the job: ${job.reason || "no reason given"}`,
          );
        });
        return create(hostv1.RunJobResponseSchema, { handle, deduplicated: !tracked.recordedHere });
      }),

    getJobStatus: (request) =>
      guarded(async () => {
        const job = await deps.jobs.status(refOf(request.handle));
        return create(hostv1.GetJobStatusResponseSchema, { status: statusOf(job) });
      }),

    async *streamJobLogs(request, context) {
      try {
        const ref = refOf(request.handle);
        const after = cursorOf(request.cursor);
        for await (const batch of deps.jobs.logs(ref, { after, follow: request.follow, signal: context.signal })) {
          yield create(hostv1.StreamJobLogsResponseSchema, { lines: batch.map(lineOf) });
        }
      } catch (error) {
        throw connectErrorOf(error);
      }
    },

    cancelJob: (request) =>
      guarded(async () => {
        const job = await deps.jobs.cancel(refOf(request.handle), request.reason || "cancelled through the host API");
        return create(hostv1.CancelJobResponseSchema, { status: statusOf(job) });
      }),
  };
}

function refOf(handle: JobHandle | undefined): { provider: string; jobId: string } {
  if (!handle?.provider || !handle.jobId) {
    throw new InvalidArgumentError(
      'handle must name the provider and the job id, as RunJob returned it (e.g. { provider: "local", jobId: "…" })',
    );
  }
  return { provider: handle.provider, jobId: handle.jobId };
}

function cursorOf(cursor: string): number {
  if (cursor === "") return 0;
  if (!/^\d+$/.test(cursor)) {
    throw new InvalidArgumentError(
      `cursor ${JSON.stringify(cursor.slice(0, 40))} is not one this host gave out: pass the cursor of the last line received, or none to read from the start`,
    );
  }
  return Number(cursor);
}

/** The job as the contract's JobStatus: the journal's exit code is the run's (a failed job never reports 0). */
export function statusOf(job: JournalJob): JobStatus {
  const status: MessageInitShape<typeof JobStatusSchema> = {
    state: JOB_STATES[job.state],
    reason: job.reason,
    createdAt: timestampFromDate(job.createdAt),
  };
  if (job.handle) status.handle = job.handle;
  const exitCode = job.exitCode ?? job.providerExitCode;
  if (exitCode !== undefined) status.exitCode = exitCode;
  if (job.finishedAt) status.finishedAt = timestampFromDate(job.finishedAt);
  return create(JobStatusSchema, status);
}

function lineOf(line: JournalLogLine) {
  return create(LogLineSchema, {
    stream: LOG_STREAMS[line.stream],
    text: line.text,
    time: timestampFromDate(line.time),
    cursor: String(line.seq),
    continues: line.continues,
  });
}

async function guarded<T>(answer: () => Promise<T>): Promise<T> {
  try {
    return await answer();
  } catch (error) {
    throw connectErrorOf(error);
  }
}

/** A thrown error as the status a client gets: the contract's classes keep their codes, a RangeError is bad input. */
function connectErrorOf(error: unknown): ConnectError {
  if (error instanceof ConnectError) return error;
  if (error instanceof RangeError) return new ConnectError(error.message, ConnectCode.InvalidArgument);
  const status = toStatus(error);
  return new ConnectError(status.details, status.code as number as ConnectCode);
}
