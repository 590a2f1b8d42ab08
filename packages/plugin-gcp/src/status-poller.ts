/**
 * The SDK's batching status poller on Cloud Run's cross-job list calls: one
 * ListExecutions on `projects/P/locations/L/jobs/-` ("To list all Executions
 * across Jobs, use "-" instead of Job name.", execution.proto) answers every
 * tracked job of a region, page by page, matched client-side by name; the
 * tasks of finished executions (for their exit codes) come the same way from
 * ListTasks on `jobs/-/executions/-` (task.proto). Both lists are newest
 * first, so paging stops as soon as every asked-for job is found.
 */
import { BatchStatusPoller, type StatusLookup } from "@flotilla/plugin-sdk";
import type { GcpClients } from "./clients.js";
import { translateGcpError } from "./errors.js";
import type { ExecutionRef } from "./execution-name.js";
import { type Execution, type ExecutionStatus, isExecutionFinished, type Task } from "./job-status.js";

/** What the poller knows about one execution. */
export type ExecutionLookup = StatusLookup<ExecutionStatus>;

/** Cloud Run publishes no maximum page size; ask for large pages so 1000 jobs take few calls. */
const listPageSize = 500;

/**
 * Cloud Run keeps at most 1000 jobs per project and region (quotas page), and
 * one list call covers all of them, so a batch is a whole region.
 */
const batchSize = 1000;

/** Most finished executions remembered (the oldest go first). */
const finishedLimit = 10_000;

/** Options of {@link ExecutionPoller}. */
export interface ExecutionPollerOptions {
  readonly clients: GcpClients;
  /** How often tracked, unfinished executions are refreshed; also the cache's freshness window. */
  readonly intervalMs: number;
  /** Sees each execution the first time it is seen finished (the runtime deletes its job). */
  readonly onFinished?: (ref: ExecutionRef, status: ExecutionStatus) => void;
  /** How long after RunJob an execution the list does not show is "not visible yet"; default 60 s. */
  readonly missingGraceMs?: number;
}

/** The shared, batching Cloud Run status poller. */
export class ExecutionPoller extends BatchStatusPoller<ExecutionRef, ExecutionStatus> {
  private readonly finishedByName: Map<string, ExecutionStatus>;

  constructor(options: ExecutionPollerOptions) {
    // The finished executions seen, with their tasks: a second fetch running at the same time as the one
    // that saw an execution finish (and deleted its job) must not answer it from a list without it.
    const finishedByName = new Map<string, ExecutionStatus>();
    super({
      keyOf: (ref) => ref.name,
      groupOf: (ref) => `${ref.project}/${ref.region}`,
      batchSize,
      intervalMs: options.intervalMs,
      async fetch(refs) {
        const { project, region } = refs[0] as ExecutionRef;
        const parent = `projects/${project}/locations/${region}`;
        const statuses = new Map<string, ExecutionStatus>();
        for (const ref of refs) {
          const known = finishedByName.get(ref.name);
          if (known) statuses.set(ref.name, known);
        }
        const wanted = new Set(refs.map((ref) => ref.name).filter((name) => !statuses.has(name)));
        if (wanted.size === 0) return statuses;
        const executions = new Map<string, Execution>();
        const client = await options.clients.executions();
        for await (const execution of client.listExecutionsAsync(
          { parent: `${parent}/jobs/-`, pageSize: listPageSize },
          { autoPaginate: false },
        )) {
          if (execution.name && wanted.has(execution.name)) executions.set(execution.name, execution);
          if (executions.size === wanted.size) break;
        }
        const finished = new Set([...executions.values()].filter(isExecutionFinished).map((e) => e.name as string));
        const tasks = new Map<string, Task>();
        if (finished.size > 0) {
          const taskClient = await options.clients.tasks();
          for await (const task of taskClient.listTasksAsync(
            { parent: `${parent}/jobs/-/executions/-`, pageSize: listPageSize },
            { autoPaginate: false },
          )) {
            // One task per job (task_count 1): the job's exit code is task 0's.
            if (task.execution && finished.has(task.execution) && Number(task.index ?? 0) === 0)
              tasks.set(task.execution, task);
            if (tasks.size === finished.size) break;
          }
        }
        for (const [name, execution] of executions) {
          const known = finishedByName.get(name);
          if (known) {
            statuses.set(name, known);
            continue;
          }
          const status = { execution, task: tasks.get(name) };
          statuses.set(name, status);
          const ref = refs.find((r) => r.name === name);
          if (ref && finished.has(name) && !finishedByName.has(name)) {
            finishedByName.set(name, status);
            if (finishedByName.size > finishedLimit)
              finishedByName.delete(finishedByName.keys().next().value as string);
            options.onFinished?.(ref, status);
          }
        }
        return statuses;
      },
      describeError: (err) => translateGcpError(err, "Cloud Run ListExecutions"),
      isFinished: (status) => isExecutionFinished(status.execution),
      missingGraceMs: options.missingGraceMs ?? 60_000,
      // Not listed yet right after CreateJob: the execution is being provisioned.
      startingStatus: (ref) => ({ execution: { name: ref.name, job: ref.jobId } }),
    });
    this.finishedByName = finishedByName;
  }

  /** The status of an execution this poller saw finish (its job may be deleted since), if it did. */
  finishedStatus(name: string): ExecutionStatus | undefined {
    return this.finishedByName.get(name);
  }
}
