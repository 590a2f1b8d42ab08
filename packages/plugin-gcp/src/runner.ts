/**
 * IaCProviderRunnerService on Cloud Run jobs: RunJob creates one Job per run
 * with its first execution (`start_execution_token`), adopting the job an
 * earlier call with the same idempotency key created; JobStatus and
 * BatchJobStatus read the shared poller (cross-job list calls); JobLogs reads
 * Cloud Logging; CancelJob cancels the execution.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@flotilla/plugin-sdk";
import {
  Code,
  type FlotillaError,
  type IaCProviderRunnerService,
  InvalidArgumentError,
  type JobHandle,
  type JobStatusResultSchema,
  NotFoundError,
  toJobError,
} from "@flotilla/protocol";
import { resolveCloudRunTarget } from "./config-schema.js";
import { translateGcpError } from "./errors.js";
import { type ExecutionRef, executionRefFromHandle, parseExecutionName } from "./execution-name.js";
import { cloudRunJobFor, executionToken } from "./job-spec.js";
import { type ExecutionStatus, isExecutionFinished, jobStatusFromExecution, timestampMsOf } from "./job-status.js";
import { decodeLogCursor, readExecutionLog } from "./logs.js";
import type { GcpRuntime } from "./runtime.js";
import type { ExecutionLookup } from "./status-poller.js";

/** The provider name put in the handles this plugin issues. */
export const gcpProviderName = "gcp";
const maxBatch = 1000;
/** Cloud Logging keeps logs 30 days in the _Default bucket: the lower bound when the execution is gone. */
const logRetentionMs = 30 * 24 * 3600_000;
/** How far before now a job created moments ago may have started writing, allowing for clock skew. */
const justCreatedMarginMs = 10 * 60_000;

function lookupError(lookup: ExecutionLookup, ref: ExecutionRef): FlotillaError | undefined {
  if (lookup.kind === "error") return lookup.error;
  if (lookup.kind === "missing")
    return new NotFoundError(
      `job ${ref.name} not found: Cloud Run has no such execution (the plugin deletes a job's Cloud Run Job once it finished; its logs stay in Cloud Logging)`,
    );
  return undefined;
}

/** Builds the runner service over a runtime getter (which fails until Configure ran). */
export function createCloudRunRunner(runtime: () => GcpRuntime): ServiceImpl<typeof IaCProviderRunnerService> {
  async function find(rt: GcpRuntime, ref: ExecutionRef): Promise<ExecutionStatus> {
    const [lookup] = (await rt.poller.lookup([ref])) as [ExecutionLookup];
    const error = lookupError(lookup, ref);
    if (error) throw error;
    return (lookup as { status: ExecutionStatus }).status;
  }

  return {
    async runJob(request) {
      const rt = runtime();
      const spec = request.spec;
      if (!spec) throw new InvalidArgumentError("RunJobRequest.spec: required");
      const target = resolveCloudRunTarget(spec.target, rt.config);
      const { jobId, job } = cloudRunJobFor(spec, target, rt.config);
      const parent = `projects/${target.project}/locations/${target.region}`;
      const name = `${parent}/jobs/${jobId}/executions/${jobId}-${executionToken}`;
      // The first call's job ran and was deleted after it finished: its run is done, not to be started again.
      if (spec.idempotencyKey && rt.poller.finishedStatus(name))
        return { handle: { provider: gcpProviderName, jobId: name }, deduplicated: true };
      let deduplicated = false;
      // Not waited for: the operation ends when the execution has started, which JobStatus reports.
      const create = async () => (await rt.clients.jobs()).createJob({ parent, jobId, job });
      try {
        try {
          await create();
        } catch (err) {
          // At the limit of 1000 jobs per region: make room by deleting finished Flotilla jobs left behind, once.
          if (
            !rt.config.deleteFinishedJobs ||
            translateGcpError(err, "").code !== Code.ResourceExhausted ||
            (await rt.sweepFinishedJobs(target.project, target.region)) === 0
          )
            throw err;
          await create();
        }
      } catch (err) {
        const error = translateGcpError(err, "Cloud Run CreateJob");
        // Same idempotency key, same job id: the first call's job and its one execution.
        if (error.code !== Code.AlreadyExists || !spec.idempotencyKey) throw error;
        deduplicated = true;
      }
      const ref = parseExecutionName(name) as ExecutionRef;
      // Right after CreateJob the list calls may not show the execution yet.
      if (!deduplicated) rt.poller.started(ref);
      return { handle: { provider: gcpProviderName, jobId: name }, deduplicated };
    },

    async jobStatus(request) {
      const rt = runtime();
      const ref = executionRefFromHandle(request.handle);
      return { status: jobStatusFromExecution(request.handle ?? {}, await find(rt, ref)) };
    },

    async batchJobStatus(request) {
      const rt = runtime();
      if (request.handles.length > maxBatch)
        throw new InvalidArgumentError(
          `BatchJobStatusRequest.handles: at most ${maxBatch} per call, got ${request.handles.length}; split the request`,
        );
      type Result = MessageInitShape<typeof JobStatusResultSchema>;
      const results: Result[] = new Array(request.handles.length);
      const refs: Array<{ index: number; ref: ExecutionRef }> = [];
      request.handles.forEach((handle, index) => {
        try {
          refs.push({ index, ref: executionRefFromHandle(handle) });
        } catch (err) {
          results[index] = { handle, result: { case: "error", value: toJobError(err) } };
        }
      });
      const lookups = await rt.poller.lookup(refs.map((r) => r.ref));
      lookups.forEach((lookup, i) => {
        const { index, ref } = refs[i] as { index: number; ref: ExecutionRef };
        const handle = request.handles[index] as JobHandle;
        const error = lookupError(lookup, ref);
        results[index] = error
          ? { handle, result: { case: "error", value: toJobError(error) } }
          : {
              handle,
              result: {
                case: "status",
                value: jobStatusFromExecution(handle, (lookup as { status: ExecutionStatus }).status),
              },
            };
      });
      return { results };
    },

    async *jobLogs(request, context: HandlerContext) {
      const rt = runtime();
      const cursor = decodeLogCursor(request.cursor);
      const ref = executionRefFromHandle(request.handle);
      const [lookup] = (await rt.poller.lookup([ref])) as [ExecutionLookup];
      if (lookup.kind === "error") throw lookup.error;
      // Found without a creation time: this process created it moments ago and Cloud Run does not list it yet.
      const fromMs =
        lookup.kind === "found"
          ? (timestampMsOf(lookup.status.execution.createTime) ?? Date.now() - justCreatedMarginMs)
          : Date.now() - logRetentionMs;
      const lines = readExecutionLog({
        logging: await rt.clients.logging(),
        ref,
        fromMs,
        cursor,
        follow: request.follow,
        pollIntervalMs: rt.config.logPollIntervalMs,
        drainGraceMs: rt.config.logDrainGraceMs,
        settleMs: rt.config.logSettleMs,
        signal: context.signal,
        budget: rt.logBudget(ref.project),
        isFinished: async () => {
          const [now] = (await rt.poller.lookup([ref])) as [ExecutionLookup];
          return now.kind === "missing" || (now.kind === "found" && isExecutionFinished(now.status.execution));
        },
      });
      for await (const page of lines) yield { lines: page };
    },

    async cancelJob(request) {
      const rt = runtime();
      const ref = executionRefFromHandle(request.handle);
      try {
        // Not waited for: the operation ends when the tasks have stopped, which JobStatus reports.
        await (await rt.clients.executions()).cancelExecution({ name: ref.name });
        rt.poller.invalidate(ref.name);
      } catch (err) {
        const error = translateGcpError(err, "Cloud Run CancelExecution");
        // An execution that has already finished cannot be cancelled (FAILED_PRECONDITION), or its job was
        // deleted after it finished (NOT_FOUND): nothing to do; its status says how it ended, or that it is gone.
        if (error.code !== Code.FailedPrecondition && error.code !== Code.NotFound) throw error;
      }
      return { status: jobStatusFromExecution(request.handle ?? {}, await find(rt, ref)) };
    },
  };
}
