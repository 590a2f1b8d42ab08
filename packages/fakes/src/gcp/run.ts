/**
 * The Cloud Run Admin API v2 part of the GCP fake: Jobs, their Executions and
 * the Tasks the executions own, plus the Locations mixin. State is computed
 * from the fake clock on every request (as in the ECS fake), so a test can
 * move time forward and a plugin in another process simply sees executions
 * progress. How each execution's tasks behave is scripted by the test
 * ({@link FakeCloudRun.setExecutionScript}); the lines a task writes go to
 * the fake Cloud Logging with the labels Cloud Run puts on job logs.
 *
 * Sources, cited beside each rule below: the v2 protos shipped in
 * `@google-cloud/run` (`build/protos/google/cloud/run/v2/*.proto`), the Cloud
 * Run v1 REST reference for condition types, and the Cloud Run quotas page
 * (https://cloud.google.com/run/quotas).
 */
import { randomUUID } from "node:crypto";
import type { FakeClock } from "../aws/clock.js";
import { GcpApiError, GrpcStatus } from "./api-error.js";
import type { FakeLocation } from "./locations.js";
import type { FakeCloudLogging } from "./logging.js";
import { FakeOperations, type OperationState, type WireOperation } from "./operations.js";
import { decodePageToken, encodePageToken, requestScope } from "./paging.js";
import { durationMs, toDuration, toTimestamp } from "./wire-values.js";

type Json = Record<string, unknown>;

/** One attempt of a task, as scripted. */
export interface AttemptScript {
  /** How long the container runs before it exits on its own, ms; Infinity runs until cancelled or timed out. */
  runMs: number;
  /** The container's exit code when it exits on its own. Default 0. */
  exitCode?: number;
  /** Set when the system kills the container with a signal (e.g. 9 for an out-of-memory kill); wins over exitCode. */
  termSignal?: number;
  /** The attempt's status message on failure, e.g. Cloud Run's "Memory limit of 512 MiB exceeded ...". */
  message?: string;
  /** Lines the container writes, each `afterMs` after it starts; `lagMs` delays that one line's delivery further. */
  logLines?: Array<string | { afterMs: number; text: string; stream?: "stdout" | "stderr"; lagMs?: number }>;
}

/** How one execution behaves, set by the test through {@link FakeCloudRun.setExecutionScript}. */
export interface ExecutionScript extends AttemptScript {
  /** Time from the execution's creation until its resources are provisioned and tasks start, ms. Default 20. */
  provisionMs?: number;
  /** Attempt k of every task follows attempts[k] (the last one repeats); when absent every attempt follows the script itself. */
  attempts?: AttemptScript[];
  /**
   * The execution never starts: resources cannot be provisioned, with one of
   * Cloud Run's common condition reasons (condition.proto `CommonReason`).
   */
  startFailure?: {
    reason:
      | "CONTAINER_MISSING"
      | "CONTAINER_PERMISSION_DENIED"
      | "SECRETS_ACCESS_CHECK_FAILED"
      | "VPC_NETWORK_NOT_FOUND";
    message: string;
  };
}

/** What a script function sees about the execution being started. */
export interface ExecutionScriptContext {
  /** The job id (last segment of the job name). */
  jobId: string;
  /** The execution's short name. */
  executionId: string;
  /** The container's image. */
  image: string;
  /** The container's command and args after overrides. */
  command: string[];
  args: string[];
  /** Plain env values, name to value. */
  env: Record<string, string>;
  /** Env vars sourced from Secret Manager, name to "secret:version" (the value never reaches the fake). */
  secretEnv: Record<string, string>;
  /** The job's labels. */
  labels: Record<string, string>;
  /** Tasks in the execution. */
  taskCount: number;
  /** Retries allowed per task. */
  maxRetries: number;
}

const defaultScript: ExecutionScript = { provisionMs: 20, runMs: 50, exitCode: 0 };

/**
 * Job ids are RFC 1035 labels: a lowercase letter, then lowercase letters,
 * digits or hyphens, not ending in a hyphen, at most 63 characters — the rule
 * Google publishes for Cloud Run resource names ("must be 1-63 characters
 * long, and comply with RFC1035", Compute API reference,
 * NetworkEndpointGroupCloudRun.service) and enforced by Cloud Run for job names.
 */
const jobIdPattern = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** "The sum of job name and token length must be fewer than 63 characters." (job.proto, `start_execution_token`). */
const jobNamePlusTokenLimit = 63;
/** Quotas page: "Job — Maximum number of jobs — 1000 — per project and region". */
export const cloudRunJobsPerRegion = 1000;
/** Quotas page: "Maximum tasks timeout value — 24 hours". */
const maxTaskTimeoutMs = 24 * 3600_000;
/** Quotas page: "Maximum number of task retries in a job — 10". */
const maxTaskRetries = 10;
/** task_template.proto: max_retries "Defaults to 3"; timeout "Defaults to 600 seconds". */
const defaultMaxRetries = 3;
const defaultTaskTimeoutMs = 600_000;
/** job.proto: labels and annotations in these namespaces "will be rejected". */
const reservedLabelNamespaces = [
  "run.googleapis.com",
  "cloud.googleapis.com",
  "serving.knative.dev",
  "autoscaling.knative.dev",
];

interface AttemptPlan {
  start: number;
  /** When the attempt ends on its own (start + min(runMs, timeout)). */
  end: number;
  timedOut: boolean;
  script: AttemptScript;
}

interface StoredTask {
  index: number;
  uid: string;
  attempts: AttemptPlan[];
  linesWritten: number[];
}

interface StoredExecution {
  name: string;
  id: string;
  uid: string;
  job: StoredJob;
  createdAt: number;
  provisionedAt: number;
  taskCount: number;
  parallelism: number;
  maxRetries: number;
  timeoutMs: number;
  template: Json;
  labels: Record<string, string>;
  script: ExecutionScript;
  tasks: StoredTask[];
  cancelRequestedAt?: number;
  cancelledAt?: number;
}

interface StoredJob {
  name: string;
  id: string;
  uid: string;
  project: string;
  location: string;
  createdAt: number;
  updatedAt: number;
  generation: number;
  /** When the latest create or update has reconciled (jobs created without an execution token). */
  readyAfterCreateAt: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  template: Json;
  startExecutionToken?: string;
  runExecutionToken?: string;
  executions: StoredExecution[];
}

/** A task's outcome at one moment. */
type TaskPhase = (
  | { phase: "pending" }
  | { phase: "running"; attempt: number }
  | { phase: "succeeded"; at: number; attempt: number }
  | { phase: "failed"; at: number; attempt: number }
  | { phase: "cancelled"; at: number; attempt: number }
) & {
  /** The last attempt that ended, whose result the task reports (-1: none yet). */
  lastFinished: number;
};

/** How the fake's List methods page (Cloud Run publishes neither a default nor a maximum page size). */
export interface RunPageLimits {
  /** Page size when the request gives none. Default 100. */
  defaultSize: number;
  /** Largest page the fake answers, whatever the request asks. Default 500. */
  maxSize: number;
}

/** The Cloud Run simulation. */
export class FakeCloudRun {
  private readonly jobs = new Map<string, StoredJob>();
  private script: (context: ExecutionScriptContext) => ExecutionScript = () => defaultScript;
  private jobLimit = cloudRunJobsPerRegion;
  private reconcileMs = 20;
  private cancelDelayMs = 0;
  private pageLimits: RunPageLimits = { defaultSize: 100, maxSize: 500 };
  /** Long-running operations of this fake. */
  readonly operations = new FakeOperations();

  constructor(
    private readonly clock: FakeClock,
    private readonly logging: FakeCloudLogging,
    /** The locations the Locations mixin lists and CreateJob accepts. */
    public locations: FakeLocation[],
  ) {}

  /** Sets how every execution started from now on behaves (a function of the execution). */
  setExecutionScript(script: ExecutionScript | ((context: ExecutionScriptContext) => ExecutionScript)): void {
    this.script = typeof script === "function" ? script : () => script;
  }

  /** Changes the per-region job limit (default 1000, the published limit) so a test can reach it cheaply. */
  setJobLimit(limit: number): void {
    this.jobLimit = limit;
  }

  /** Time a create or delete takes to reconcile, ms (default 20). */
  setReconcileMs(ms: number): void {
    this.reconcileMs = ms;
  }

  /** Time from CancelExecution until the tasks stop (default 0); meanwhile the execution reports CANCELLING. */
  setCancelDelayMs(ms: number): void {
    this.cancelDelayMs = ms;
  }

  /** Changes how List methods page. */
  setPageLimits(limits: Partial<RunPageLimits>): void {
    this.pageLimits = { ...this.pageLimits, ...limits };
  }

  /** Names of the jobs that exist, for assertions. */
  jobNames(): string[] {
    return [...this.jobs.keys()];
  }

  /** Writes the log lines that have fallen due; the server calls this before answering any request. */
  settle(): void {
    const now = this.clock.now();
    for (const job of this.jobs.values()) for (const execution of job.executions) this.writeDueLines(execution, now);
  }

  // --- Jobs -------------------------------------------------------------------------------------------------

  /** CreateJob. */
  createJob(request: Json): WireOperation {
    const { project, location, parent } = this.parseParent(String(request.parent ?? ""));
    const jobId = String(request.jobId ?? "");
    if (!jobIdPattern.test(jobId))
      throw GcpApiError.invalid(
        `Invalid job_id "${jobId}": a job name must be 1-63 characters of lowercase letters, digits and hyphens, start with a letter and not end with a hyphen (RFC 1035).`,
      );
    const job = (request.job ?? {}) as Json;
    const template = job.template as Json | undefined;
    this.checkLabels(job.labels, "job.labels");
    this.checkLabels(job.annotations, "job.annotations");
    this.checkExecutionTemplate(template);
    const startToken = job.startExecutionToken as string | undefined;
    const runToken = job.runExecutionToken as string | undefined;
    for (const [field, token] of [
      ["start_execution_token", startToken],
      ["run_execution_token", runToken],
    ] as const) {
      if (token !== undefined && jobId.length + token.length >= jobNamePlusTokenLimit)
        throw GcpApiError.invalid(
          `Invalid ${field}: the sum of job name and token length must be fewer than ${jobNamePlusTokenLimit} characters (job "${jobId}" is ${jobId.length}, the token ${token.length}).`,
        );
      if (token !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(token))
        throw GcpApiError.invalid(
          `Invalid ${field} "${token}": it becomes part of an execution name (lowercase letters, digits, hyphens).`,
        );
    }
    const name = `${parent}/jobs/${jobId}`;
    // A repeat is refused, not merged: "Resource 'prefect-famous-doberman' already exists." (409 over REST,
    // ALREADY_EXISTS over gRPC), quoted from a real run in prefect-archive/prefect-gcp#254.
    if (this.jobs.has(name)) throw new GcpApiError(GrpcStatus.ALREADY_EXISTS, `Resource '${jobId}' already exists.`);
    const inRegion = [...this.jobs.values()].filter((j) => j.project === project && j.location === location).length;
    if (inRegion >= this.jobLimit)
      throw new GcpApiError(
        GrpcStatus.RESOURCE_EXHAUSTED,
        `Quota exceeded: project ${project} already has ${inRegion} jobs in ${location}, the maximum number of jobs per project and region (${this.jobLimit}). Delete jobs that are no longer needed.`,
      );
    const now = this.clock.now();
    const stored: StoredJob = {
      name,
      id: jobId,
      uid: randomUUID(),
      project,
      location,
      createdAt: now,
      updatedAt: now,
      generation: 1,
      readyAfterCreateAt: now + this.reconcileMs,
      labels: { ...((job.labels as Record<string, string>) ?? {}) },
      annotations: { ...((job.annotations as Record<string, string>) ?? {}) },
      template: template as Json,
      ...(startToken !== undefined ? { startExecutionToken: startToken } : {}),
      ...(runToken !== undefined ? { runExecutionToken: runToken } : {}),
      executions: [],
    };
    if (request.validateOnly) {
      return this.operations.start(parent, () => ({
        done: true,
        metadata: { type: "Job", message: this.jobView(stored) },
        response: { type: "Job", message: this.jobView(stored) },
      }));
    }
    this.jobs.set(name, stored);
    // "A unique string used as a suffix creating a new execution" (job.proto): the first execution is
    // created with the job, named <job>-<token>.
    const token = startToken ?? runToken;
    if (token !== undefined) this.startExecution(stored, `${jobId}-${token}`, undefined);
    return this.operations.start(parent, () => this.createState(stored));
  }

  /** GetJob. */
  getJob(request: Json): Json {
    return this.jobView(this.requireJob(String(request.name ?? "")));
  }

  /**
   * UpdateJob: the Job is replaced by the one sent (UpdateJobRequest has no
   * update mask), as a new generation that reconciles like a new job; its
   * executions are untouched. A stale `etag` is ABORTED (job.proto, `etag`;
   * AIP-154). `allow_missing`: "If set to true, and if the Job does not exist,
   * it will create a new one"; without it a missing job is NOT_FOUND.
   * Execution tokens are for creation: an update ignores them.
   */
  updateJob(request: Json): WireOperation {
    const body = (request.job ?? {}) as Json;
    const name = String(body.name ?? "");
    const job = this.jobs.get(name);
    if (!job) {
      if (!request.allowMissing) this.requireJob(name);
      const match = /^(projects\/[^/]+\/locations\/[^/]+)\/jobs\/([^/]+)$/.exec(name);
      if (!match) this.requireJob(name);
      const { startExecutionToken: _start, runExecutionToken: _run, ...rest } = body;
      return this.createJob({ parent: match?.[1], jobId: match?.[2], job: rest, validateOnly: request.validateOnly });
    }
    if (typeof body.etag === "string" && body.etag !== "" && body.etag !== jobEtag(job))
      throw new GcpApiError(
        GrpcStatus.ABORTED,
        `UpdateJob: the etag ${body.etag} does not match the job's current etag ${jobEtag(job)}; the job was changed since it was read. Read it again and retry.`,
      );
    this.checkLabels(body.labels, "job.labels");
    this.checkLabels(body.annotations, "job.annotations");
    this.checkExecutionTemplate(body.template as Json | undefined);
    const parent = `projects/${job.project}/locations/${job.location}`;
    if (!request.validateOnly) {
      const now = this.clock.now();
      job.labels = { ...((body.labels as Record<string, string>) ?? {}) };
      job.annotations = { ...((body.annotations as Record<string, string>) ?? {}) };
      job.template = body.template as Json;
      job.generation += 1;
      job.updatedAt = now;
      job.readyAfterCreateAt = now + this.reconcileMs;
      delete job.startExecutionToken;
      delete job.runExecutionToken;
    }
    return this.operations.start(parent, () => this.createState(job));
  }

  /** ListJobs: "Results are sorted by creation time, descending." (job.proto). */
  listJobs(request: Json): Json {
    const { parent } = this.parseParent(String(request.parent ?? ""));
    const jobs = [...this.jobs.values()]
      .filter((j) => j.name.startsWith(`${parent}/jobs/`))
      .sort((a, b) => b.createdAt - a.createdAt || b.id.localeCompare(a.id));
    const { page, nextPageToken } = this.page("ListJobs", parent, jobs, request);
    return { jobs: page.map((j) => this.jobView(j)), nextPageToken };
  }

  /**
   * DeleteJob; a stale `etag` is ABORTED (DeleteJobRequest.etag, AIP-154).
   * The API reference publishes no rule for a job whose executions
   * still run; the fake takes the stricter of the two plausible answers and
   * refuses with FAILED_PRECONDITION, so code that cancels first and deletes
   * after the execution finished works whichever way the service behaves.
   */
  deleteJob(request: Json): WireOperation {
    const job = this.requireJob(String(request.name ?? ""));
    if (typeof request.etag === "string" && request.etag !== "" && request.etag !== jobEtag(job))
      throw new GcpApiError(
        GrpcStatus.ABORTED,
        `DeleteJob: the etag ${request.etag} does not match the job's current etag ${jobEtag(job)}; read it again and retry.`,
      );
    const now = this.clock.now();
    const running = job.executions.filter((e) => !this.executionTerminal(e, now));
    if (running.length > 0)
      throw new GcpApiError(
        GrpcStatus.FAILED_PRECONDITION,
        `Job "${job.id}" has ${running.length} running execution(s) (${running.map((e) => e.id).join(", ")}); cancel them and wait for them to finish before deleting the job.`,
      );
    const parent = `projects/${job.project}/locations/${job.location}`;
    if (request.validateOnly)
      return this.operations.start(parent, () => ({
        done: true,
        metadata: { type: "Job", message: this.jobView(job) },
        response: { type: "Job", message: this.jobView(job) },
      }));
    this.jobs.delete(job.name);
    const deletedAt = now;
    const view = { ...this.jobView(job), deleteTime: toTimestamp(deletedAt), reconciling: false };
    return this.operations.start(parent, () => {
      const done = this.clock.now() >= deletedAt + this.reconcileMs;
      return {
        done,
        metadata: { type: "Job", message: view },
        ...(done ? { response: { type: "Job", message: view } } : {}),
      };
    });
  }

  /** RunJob: a new execution named <job>-<5 characters> (e.g. "sample-job-mdw84", OpenTelemetry's gcp.cloud_run.job.execution example). */
  runJob(request: Json): WireOperation {
    const job = this.requireJob(String(request.name ?? ""));
    const overrides = request.overrides as Json | undefined;
    const suffix = Math.random().toString(36).slice(2, 7).padEnd(5, "x");
    const execution = this.startExecution(job, `${job.id}-${suffix}`, overrides);
    if (request.validateOnly) job.executions = job.executions.filter((e) => e !== execution);
    return this.operations.start(`projects/${job.project}/locations/${job.location}`, () => this.runState(execution));
  }

  // --- Executions -------------------------------------------------------------------------------------------

  /** GetExecution. */
  getExecution(request: Json): Json {
    return this.executionView(this.requireExecution(String(request.name ?? "")));
  }

  /**
   * ListExecutions of one job, or of every job with "-" as the job:
   * "To list all Executions across Jobs, use "-" instead of Job name."
   * (execution.proto, ListExecutionsRequest.parent). Sorted by creation time,
   * descending (execution.proto, ListExecutions).
   */
  listExecutions(request: Json): Json {
    const parent = String(request.parent ?? "");
    const match = /^(projects\/[^/]+\/locations\/[^/]+)\/jobs\/([^/]+)$/.exec(parent);
    if (!match)
      throw GcpApiError.invalid(
        `Invalid parent "${parent}": expected projects/{project}/locations/{location}/jobs/{job} (or jobs/-).`,
      );
    const [, location, jobId] = match as unknown as [string, string, string];
    this.parseParent(location);
    const executions = this.executionsUnder(location, jobId);
    const { page, nextPageToken } = this.page("ListExecutions", parent, executions, request);
    return { executions: page.map((e) => this.executionView(e)), nextPageToken };
  }

  /**
   * CancelExecution. Cancelling a finished execution: the API reference
   * publishes no answer; the fake refuses with FAILED_PRECONDITION (the
   * stricter choice, as for DeleteJob).
   */
  cancelExecution(request: Json): WireOperation {
    const execution = this.requireExecution(String(request.name ?? ""));
    const now = this.clock.now();
    if (this.executionTerminal(execution, now))
      throw new GcpApiError(
        GrpcStatus.FAILED_PRECONDITION,
        `Execution "${execution.id}" has already finished and cannot be cancelled.`,
      );
    if (!request.validateOnly && execution.cancelRequestedAt === undefined) {
      execution.cancelRequestedAt = now;
      execution.cancelledAt = now + this.cancelDelayMs;
    }
    const parent = `projects/${execution.job.project}/locations/${execution.job.location}`;
    return this.operations.start(parent, () => {
      const view = this.executionView(execution);
      const done = this.executionTerminal(execution, this.clock.now());
      return {
        done,
        metadata: { type: "Execution", message: view },
        ...(done ? { response: { type: "Execution", message: view } } : {}),
      };
    });
  }

  /** DeleteExecution: refused while it runs (as CancelExecution's counterpart; see {@link deleteJob}). */
  deleteExecution(request: Json): WireOperation {
    const execution = this.requireExecution(String(request.name ?? ""));
    const now = this.clock.now();
    if (!this.executionTerminal(execution, now))
      throw new GcpApiError(
        GrpcStatus.FAILED_PRECONDITION,
        `Execution "${execution.id}" is still running; cancel it first.`,
      );
    const view = { ...this.executionView(execution), deleteTime: toTimestamp(now) };
    if (!request.validateOnly) execution.job.executions = execution.job.executions.filter((e) => e !== execution);
    return this.operations.start(`projects/${execution.job.project}/locations/${execution.job.location}`, () => ({
      done: true,
      metadata: { type: "Execution", message: view },
      response: { type: "Execution", message: view },
    }));
  }

  // --- Tasks ------------------------------------------------------------------------------------------------

  /** GetTask. */
  getTask(request: Json): Json {
    const name = String(request.name ?? "");
    const match = /^(.+)\/tasks\/([^/]+)$/.exec(name);
    const execution = match ? this.findExecution(match[1] as string) : undefined;
    const task = execution?.tasks.find((t) => this.taskName(execution, t) === name);
    if (!execution || !task) throw GcpApiError.notFound("Task", name);
    return this.taskView(execution, task);
  }

  /**
   * ListTasks of one execution; "-" as the execution lists a job's tasks
   * across executions and "-" as the job too lists every task in the region:
   * "To list all Tasks across Executions of a Job, use "-" instead of
   * Execution name. To list all Tasks across Jobs, use "-" instead of Job
   * name." (task.proto, ListTasksRequest.parent).
   */
  listTasks(request: Json): Json {
    const parent = String(request.parent ?? "");
    const match = /^(projects\/[^/]+\/locations\/[^/]+)\/jobs\/([^/]+)\/executions\/([^/]+)$/.exec(parent);
    if (!match)
      throw GcpApiError.invalid(
        `Invalid parent "${parent}": expected projects/{project}/locations/{location}/jobs/{job}/executions/{execution} ("-" for any job or execution).`,
      );
    const [, location, jobId, executionId] = match as unknown as [string, string, string, string];
    this.parseParent(location);
    if (jobId === "-" && executionId !== "-")
      throw GcpApiError.invalid(`Invalid parent "${parent}": with "-" as the job, the execution must be "-" too.`);
    const executions = this.executionsUnder(location, jobId).filter((e) => executionId === "-" || e.id === executionId);
    if (executionId !== "-" && executions.length === 0) throw GcpApiError.notFound("Execution", parent);
    const tasks = executions.flatMap((e) => e.tasks.map((t) => ({ execution: e, task: t })));
    const { page, nextPageToken } = this.page("ListTasks", parent, tasks, request);
    return { tasks: page.map(({ execution, task }) => this.taskView(execution, task)), nextPageToken };
  }

  // --- Locations --------------------------------------------------------------------------------------------

  /** google.cloud.location.Locations/ListLocations for `projects/P`. */
  listLocations(request: Json): Json {
    const name = String(request.name ?? "");
    if (!/^projects\/[^/]+$/.test(name))
      throw GcpApiError.invalid(`Invalid name "${name}": expected projects/{project}.`);
    const all = this.locations.map((l) => this.locationView(name, l));
    const { page, nextPageToken } = this.page("ListLocations", name, all, request);
    return { locations: page, nextPageToken };
  }

  /** google.cloud.location.Locations/GetLocation. */
  getLocation(request: Json): Json {
    const name = String(request.name ?? "");
    const match = /^(projects\/[^/]+)\/locations\/([^/]+)$/.exec(name);
    const location = match ? this.locations.find((l) => l.locationId === match[2]) : undefined;
    if (!match || !location) throw GcpApiError.notFound("Location", name);
    return this.locationView(match[1] as string, location);
  }

  // --- internals --------------------------------------------------------------------------------------------

  private locationView(project: string, location: FakeLocation): Json {
    return {
      name: `${project}/locations/${location.locationId}`,
      locationId: location.locationId,
      displayName: location.displayName,
      labels: { "cloud.googleapis.com/region": location.locationId },
    };
  }

  /** Reads `projects/P/locations/L`, refusing a malformed parent or a region the fake does not know (also used by the Services API). */
  parseParent(parent: string): { project: string; location: string; parent: string } {
    const match = /^projects\/([^/]+)\/locations\/([^/]+)$/.exec(parent);
    if (!match)
      throw GcpApiError.invalid(`Invalid parent "${parent}": expected projects/{project}/locations/{location}.`);
    const [, project, location] = match as unknown as [string, string, string];
    if (!this.locations.some((l) => l.locationId === location))
      throw GcpApiError.invalid(
        `Location "${location}" is not a Cloud Run region (known: ${this.locations.map((l) => l.locationId).join(", ")}).`,
      );
    return { project, location, parent };
  }

  private checkLabels(labels: unknown, field: string): void {
    for (const key of Object.keys((labels as Record<string, string>) ?? {})) {
      const namespace = key.includes("/") ? key.slice(0, key.indexOf("/")) : "";
      if (reservedLabelNamespaces.includes(namespace))
        throw GcpApiError.invalid(
          `${field}: the key "${key}" is in the reserved namespace ${namespace}, which Cloud Run API v2 rejects.`,
        );
    }
  }

  private checkExecutionTemplate(template: Json | undefined): void {
    const taskTemplate = template?.template as Json | undefined;
    const containers = (taskTemplate?.containers as Json[] | undefined) ?? [];
    if (!template || !taskTemplate || containers.length === 0)
      throw GcpApiError.invalid("job.template.template.containers: a job needs exactly one container to run.");
    containers.forEach((container, i) => {
      if (!container.image) throw GcpApiError.invalid(`job.template.template.containers[${i}].image is required.`);
    });
    const timeout = durationMs(taskTemplate.timeout as Json | undefined);
    if (timeout !== undefined && timeout > maxTaskTimeoutMs)
      throw GcpApiError.invalid(
        `job.template.template.timeout: ${timeout / 1000}s exceeds the maximum task timeout of 24 hours.`,
      );
    const retries = taskTemplate.maxRetries as number | undefined;
    if (retries !== undefined && (retries < 0 || retries > maxTaskRetries))
      throw GcpApiError.invalid(`job.template.template.max_retries: ${retries} is outside 0-${maxTaskRetries}.`);
    const taskCount = (template.taskCount as number | undefined) ?? 1;
    if (taskCount < 0 || taskCount > 10_000)
      throw GcpApiError.invalid(
        `job.template.task_count: ${taskCount} is outside 1-10000 (maximum number of tasks in a single job).`,
      );
  }

  private requireJob(name: string): StoredJob {
    const job = this.jobs.get(name);
    if (!job) {
      if (!/^projects\/[^/]+\/locations\/[^/]+\/jobs\/[^/]+$/.test(name))
        throw GcpApiError.invalid(
          `Invalid job name "${name}": expected projects/{project}/locations/{location}/jobs/{job}.`,
        );
      throw GcpApiError.notFound("Job", name);
    }
    return job;
  }

  private findExecution(name: string): StoredExecution | undefined {
    const match = /^(projects\/[^/]+\/locations\/[^/]+\/jobs\/[^/]+)\/executions\/[^/]+$/.exec(name);
    return match ? this.jobs.get(match[1] as string)?.executions.find((e) => e.name === name) : undefined;
  }

  private requireExecution(name: string): StoredExecution {
    const execution = this.findExecution(name);
    if (!execution) throw GcpApiError.notFound("Execution", name);
    return execution;
  }

  private executionsUnder(location: string, jobId: string): StoredExecution[] {
    const jobs =
      jobId === "-"
        ? [...this.jobs.values()].filter((j) => j.name.startsWith(`${location}/jobs/`))
        : [this.jobs.get(`${location}/jobs/${jobId}`)];
    if (jobId !== "-" && !jobs[0]) throw GcpApiError.notFound("Job", `${location}/jobs/${jobId}`);
    return jobs
      .flatMap((j) => j?.executions ?? [])
      .sort((a, b) => b.createdAt - a.createdAt || b.id.localeCompare(a.id));
  }

  /** One page of `items` as a List method answers it, with a token bound to the request (also used by the Services API). */
  page<T>(method: string, parent: string, items: T[], request: Json): { page: T[]; nextPageToken: string } {
    const scope = requestScope(method, parent, Boolean(request.showDeleted));
    const start = request.pageToken ? decodePageToken<number>(String(request.pageToken), scope).cursor : 0;
    const asked = Number(request.pageSize ?? 0);
    if (asked < 0) throw GcpApiError.invalid(`page_size must not be negative (got ${asked}).`);
    const size = Math.min(asked > 0 ? asked : this.pageLimits.defaultSize, this.pageLimits.maxSize);
    const page = items.slice(start, start + size);
    const nextPageToken =
      start + size < items.length ? encodePageToken(scope, { cursor: start + size, issuedAt: this.clock.now() }) : "";
    return { page, nextPageToken };
  }

  private startExecution(job: StoredJob, id: string, overrides: Json | undefined): StoredExecution {
    const template = structuredClone(job.template);
    const taskTemplate = structuredClone(template.template as Json);
    const container = structuredClone((taskTemplate.containers as Json[])[0] as Json);
    const override = ((overrides?.containerOverrides as Json[] | undefined) ?? [])[0];
    if (override) {
      if (override.clearArgs) container.args = [];
      if ((override.args as string[] | undefined)?.length) container.args = override.args;
      const env = new Map(((container.env as Json[] | undefined) ?? []).map((e) => [e.name as string, e]));
      for (const e of (override.env as Json[] | undefined) ?? []) env.set(e.name as string, e);
      container.env = [...env.values()];
    }
    taskTemplate.containers = [container];
    if (overrides?.timeout) taskTemplate.timeout = overrides.timeout;
    const taskCount = Number((overrides?.taskCount as number | undefined) || template.taskCount || 1);
    // max_retries sits in a oneof, so an explicit 0 is present on the wire; an unset one means 3.
    const maxRetries = taskTemplate.retries === "maxRetries" ? Number(taskTemplate.maxRetries) : defaultMaxRetries;
    const timeoutMs = durationMs(taskTemplate.timeout as Json | undefined) ?? defaultTaskTimeoutMs;
    const env: Record<string, string> = {};
    const secretEnv: Record<string, string> = {};
    for (const e of (container.env as Json[] | undefined) ?? []) {
      const secret = (e.valueSource as Json | undefined)?.secretKeyRef as Json | undefined;
      if (secret) secretEnv[e.name as string] = `${secret.secret}:${secret.version ?? "latest"}`;
      else env[e.name as string] = String(e.value ?? "");
    }
    const context: ExecutionScriptContext = {
      jobId: job.id,
      executionId: id,
      image: String(container.image),
      command: [...((container.command as string[] | undefined) ?? [])],
      args: [...((container.args as string[] | undefined) ?? [])],
      env,
      secretEnv,
      labels: { ...job.labels },
      taskCount,
      maxRetries,
    };
    const script = { ...defaultScript, ...this.script(context) };
    const now = this.clock.now();
    const provisionedAt = now + (script.provisionMs ?? 20);
    const execution: StoredExecution = {
      name: `${job.name}/executions/${id}`,
      id,
      uid: randomUUID(),
      job,
      createdAt: now,
      provisionedAt,
      taskCount,
      parallelism: Number(template.parallelism ?? 0) || taskCount,
      maxRetries,
      timeoutMs,
      template: taskTemplate,
      labels: { ...job.labels, ...((template.labels as Record<string, string>) ?? {}) },
      script,
      tasks: [],
    };
    for (let index = 0; index < taskCount; index++) {
      const attempts: AttemptPlan[] = [];
      let start = provisionedAt;
      for (let attempt = 0; attempt <= maxRetries; attempt++) {
        const attemptScript = script.attempts?.[Math.min(attempt, script.attempts.length - 1)] ?? script;
        const runs = attemptScript.runMs;
        const timedOut = runs > timeoutMs;
        const end = start + Math.min(runs, timeoutMs);
        attempts.push({ start, end, timedOut, script: attemptScript });
        if (!timedOut && attemptScript.termSignal === undefined && (attemptScript.exitCode ?? 0) === 0) break;
        if (!Number.isFinite(end)) break;
        start = end;
      }
      execution.tasks.push({ index, uid: randomUUID(), attempts, linesWritten: attempts.map(() => 0) });
    }
    job.executions.push(execution);
    return execution;
  }

  /** Where a task stands at `now`: its natural course, cut short at the moment a cancellation took effect. */
  private taskPhase(execution: StoredExecution, task: StoredTask, now: number): TaskPhase {
    const natural = this.naturalPhase(execution, task, now);
    const cancelledAt = execution.cancelledAt;
    if (cancelledAt === undefined || cancelledAt > now) return natural;
    const atCancel = this.naturalPhase(execution, task, cancelledAt);
    if (atCancel.phase !== "pending" && atCancel.phase !== "running") return natural;
    return {
      phase: "cancelled",
      at: cancelledAt,
      attempt: atCancel.phase === "running" ? atCancel.attempt : 0,
      lastFinished: atCancel.lastFinished,
    };
  }

  private naturalPhase(execution: StoredExecution, task: StoredTask, now: number): TaskPhase {
    if (now < execution.provisionedAt) return { phase: "pending", lastFinished: -1 };
    if (execution.script.startFailure)
      return { phase: "failed", at: execution.provisionedAt, attempt: 0, lastFinished: -1 };
    for (let i = 0; i < task.attempts.length; i++) {
      const attempt = task.attempts[i] as AttemptPlan;
      if (now < attempt.end) return { phase: "running", attempt: i, lastFinished: i - 1 };
      if (attemptSucceeded(attempt)) return { phase: "succeeded", at: attempt.end, attempt: i, lastFinished: i };
    }
    const last = task.attempts.length - 1;
    return { phase: "failed", at: (task.attempts[last] as AttemptPlan).end, attempt: last, lastFinished: last };
  }

  private executionTerminal(execution: StoredExecution, now: number): boolean {
    return execution.tasks.every((t) => {
      const phase = this.taskPhase(execution, t, now).phase;
      return phase === "succeeded" || phase === "failed" || phase === "cancelled";
    });
  }

  private executionOutcome(execution: StoredExecution, now: number) {
    const phases = execution.tasks.map((t) => this.taskPhase(execution, t, now));
    const count = (p: TaskPhase["phase"]) => phases.filter((x) => x.phase === p).length;
    const terminal = phases.every((p) => p.phase === "succeeded" || p.phase === "failed" || p.phase === "cancelled");
    const completedAt = terminal
      ? Math.max(execution.provisionedAt, ...phases.map((p) => ("at" in p ? p.at : 0)))
      : undefined;
    return {
      running: count("running"),
      succeeded: count("succeeded"),
      failed: count("failed"),
      cancelled: count("cancelled"),
      retried: phases.filter((p) => p.phase !== "pending" && attemptIndex(p) > 0).length,
      terminal,
      completedAt,
    };
  }

  private createState(job: StoredJob): OperationState {
    const view = this.jobView(job);
    const ready = view.terminalCondition as Json;
    const state = ready.state as string;
    const done = state === "CONDITION_SUCCEEDED" || state === "CONDITION_FAILED";
    if (!done) return { done, metadata: { type: "Job", message: view } };
    if (state === "CONDITION_FAILED")
      return {
        done,
        metadata: { type: "Job", message: view },
        error: { code: GrpcStatus.FAILED_PRECONDITION, message: String(ready.message) },
      };
    return { done, metadata: { type: "Job", message: view }, response: { type: "Job", message: view } };
  }

  /**
   * RunJob's operation finishes when the execution does (apache/airflow's
   * CloudRunJobFinishedTrigger polls it to completion): with an error when it
   * failed, and without one when it was cancelled (apache/airflow#67050: "A
   * user-initiated cancel ... completes the LRO without populating
   * operation.error"). The error code is the fake's choice (not published).
   */
  private runState(execution: StoredExecution): OperationState {
    const view = this.executionView(execution);
    const outcome = this.executionOutcome(execution, this.clock.now());
    if (!outcome.terminal) return { done: false, metadata: { type: "Execution", message: view } };
    if (outcome.failed > 0)
      return {
        done: true,
        metadata: { type: "Execution", message: view },
        error: {
          code: GrpcStatus.FAILED_PRECONDITION,
          message: `Execution ${execution.id} failed: ${outcome.failed} task(s) failed.`,
        },
      };
    return {
      done: true,
      metadata: { type: "Execution", message: view },
      response: { type: "Execution", message: view },
    };
  }

  private jobView(job: StoredJob): Json {
    const now = this.clock.now();
    const latest = job.executions.at(-1);
    const first = job.executions[0];
    let ready: Json;
    if (job.startExecutionToken !== undefined || job.runExecutionToken !== undefined) {
      // start_execution_token: "The Job will become ready when the execution is successfully started";
      // run_execution_token: "... when the execution is successfully completed" (job.proto).
      const outcome = first ? this.executionOutcome(first, now) : undefined;
      const started = first !== undefined && now >= first.provisionedAt && !first.script.startFailure;
      const failed =
        first !== undefined &&
        ((first.script.startFailure && now >= first.provisionedAt) ||
          (job.runExecutionToken !== undefined && outcome?.terminal && (outcome.failed > 0 || outcome.cancelled > 0)));
      const succeeded = job.startExecutionToken !== undefined ? started : Boolean(outcome?.terminal && !failed);
      ready = failed
        ? {
            type: "Ready",
            state: "CONDITION_FAILED",
            message: first?.script.startFailure?.message ?? `Execution ${first?.id} did not complete successfully.`,
            ...(first?.script.startFailure ? { reason: first.script.startFailure.reason } : {}),
          }
        : succeeded
          ? { type: "Ready", state: "CONDITION_SUCCEEDED" }
          : { type: "Ready", state: "CONDITION_RECONCILING", reason: "WAITING_FOR_OPERATION" };
    } else {
      ready =
        now >= job.readyAfterCreateAt
          ? { type: "Ready", state: "CONDITION_SUCCEEDED" }
          : { type: "Ready", state: "CONDITION_RECONCILING" };
    }
    const reconciling = ready.state === "CONDITION_RECONCILING";
    return {
      name: job.name,
      uid: job.uid,
      generation: String(job.generation),
      labels: job.labels,
      annotations: job.annotations,
      createTime: toTimestamp(job.createdAt),
      updateTime: toTimestamp(job.updatedAt),
      creator: "fake-caller@example.iam.gserviceaccount.com",
      lastModifier: "fake-caller@example.iam.gserviceaccount.com",
      launchStage: "GA",
      template: job.template,
      observedGeneration: String(reconciling ? job.generation - 1 : job.generation),
      terminalCondition: { ...ready, lastTransitionTime: toTimestamp(now) },
      conditions: [],
      executionCount: job.executions.length,
      ...(latest ? { latestCreatedExecution: this.executionReference(latest, now) } : {}),
      reconciling,
      ...(job.startExecutionToken !== undefined ? { startExecutionToken: job.startExecutionToken } : {}),
      ...(job.runExecutionToken !== undefined ? { runExecutionToken: job.runExecutionToken } : {}),
      etag: jobEtag(job),
    };
  }

  private executionReference(execution: StoredExecution, now: number): Json {
    const outcome = this.executionOutcome(execution, now);
    const status = !outcome.terminal
      ? now < execution.provisionedAt
        ? "EXECUTION_PENDING"
        : "EXECUTION_RUNNING"
      : outcome.cancelled > 0
        ? "EXECUTION_CANCELLED"
        : outcome.failed > 0
          ? "EXECUTION_FAILED"
          : "EXECUTION_SUCCEEDED";
    return {
      name: execution.name,
      createTime: toTimestamp(execution.createdAt),
      ...(outcome.completedAt !== undefined ? { completionTime: toTimestamp(outcome.completedAt) } : {}),
      completionStatus: status,
    };
  }

  /**
   * An execution as Cloud Run reports it. Condition types follow the v1 REST
   * reference, ExecutionStatus.conditions: "`ResourcesAvailable`: True when
   * underlying resources have been provisioned. `Started`: True when the
   * execution has started to execute. `Completed`: True when the execution has
   * succeeded. False when the execution has failed." A failed one carries
   * reason NON_ZERO_EXIT_CODE (v1 `NonZeroExitCode`, quoted in
   * GoogleCloudPlatform/workflows-demos#40; v2 condition.proto
   * ExecutionReason), a cancelled one CANCELLED, one being cancelled CANCELLING.
   */
  private executionView(execution: StoredExecution): Json {
    const now = this.clock.now();
    const outcome = this.executionOutcome(execution, now);
    const provisioned = now >= execution.provisionedAt;
    const startFailure = execution.script.startFailure;
    const at = (ms: number) => toTimestamp(ms);
    const conditions: Json[] = [];
    if (startFailure && provisioned) {
      conditions.push({
        type: "ResourcesAvailable",
        state: "CONDITION_FAILED",
        message: startFailure.message,
        reason: startFailure.reason,
        severity: "ERROR",
        lastTransitionTime: at(execution.provisionedAt),
      });
    } else {
      conditions.push({
        type: "ResourcesAvailable",
        state: provisioned ? "CONDITION_SUCCEEDED" : "CONDITION_RECONCILING",
        message: provisioned ? "Provisioned imported containers." : "Provisioning imported containers.",
        lastTransitionTime: at(provisioned ? execution.provisionedAt : execution.createdAt),
      });
      conditions.push({
        type: "Started",
        state: provisioned ? "CONDITION_SUCCEEDED" : "CONDITION_PENDING",
        ...(provisioned ? { message: "Started deployed execution polling" } : {}),
        lastTransitionTime: at(provisioned ? execution.provisionedAt : execution.createdAt),
      });
    }
    let completed: Json;
    if (outcome.terminal) {
      const finishedAt = outcome.completedAt ?? now;
      completed =
        outcome.cancelled > 0
          ? { state: "CONDITION_FAILED", executionReason: "CANCELLED", message: "The execution was cancelled." }
          : outcome.failed > 0
            ? {
                state: "CONDITION_FAILED",
                ...(startFailure ? { reason: startFailure.reason } : { executionReason: "NON_ZERO_EXIT_CODE" }),
                message: startFailure
                  ? startFailure.message
                  : `Task failed: ${outcome.failed} of ${execution.taskCount} task(s) failed.`,
                severity: "ERROR",
              }
            : {
                state: "CONDITION_SUCCEEDED",
                message: `Execution completed successfully in ${((finishedAt - execution.createdAt) / 1000).toFixed(2)}s.`,
              };
      completed.lastTransitionTime = at(finishedAt);
    } else if (execution.cancelRequestedAt !== undefined) {
      completed = {
        state: "CONDITION_RECONCILING",
        executionReason: "CANCELLING",
        message: "The execution is being cancelled.",
        lastTransitionTime: at(execution.cancelRequestedAt),
      };
    } else {
      completed = {
        state: provisioned ? "CONDITION_RECONCILING" : "CONDITION_PENDING",
        lastTransitionTime: at(execution.createdAt),
      };
    }
    conditions.unshift({ type: "Completed", ...completed });
    return {
      name: execution.name,
      uid: execution.uid,
      creator: "fake-caller@example.iam.gserviceaccount.com",
      generation: "1",
      labels: execution.labels,
      createTime: at(execution.createdAt),
      ...(provisioned && !startFailure ? { startTime: at(execution.provisionedAt) } : {}),
      ...(outcome.completedAt !== undefined ? { completionTime: at(outcome.completedAt) } : {}),
      updateTime: at(now),
      launchStage: "GA",
      job: execution.job.name,
      parallelism: execution.parallelism,
      taskCount: execution.taskCount,
      template: execution.template,
      reconciling: !outcome.terminal,
      conditions,
      observedGeneration: "1",
      runningCount: outcome.running,
      succeededCount: outcome.succeeded,
      failedCount: outcome.failed,
      cancelledCount: outcome.cancelled,
      retriedCount: outcome.retried,
      logUri: `https://console.cloud.google.com/logs/viewer?project=${execution.job.project}&resource=cloud_run_job/job_name/${execution.job.id}`,
      etag: `"${execution.uid.slice(0, 8)}"`,
    };
  }

  private taskName(execution: StoredExecution, task: StoredTask): string {
    return `${execution.name}/tasks/${execution.id}-task${task.index}`;
  }

  /**
   * A task as Cloud Run reports it: conditions `Started` and `Completed` (v1
   * REST reference, TaskStatus.conditions: "`Started`: `True` when the task
   * has started to execute. `Completed`: `True` when the task has succeeded.
   * `False` when the task has failed."), `retried`, and `lastAttemptResult`
   * with the exit code or the terminating signal — "At most one of exit_code
   * or term_signal will be set" — and a status whose code is OK when the
   * attempt succeeded (task.proto, TaskAttemptResult).
   */
  private taskView(execution: StoredExecution, task: StoredTask): Json {
    const now = this.clock.now();
    const phase = this.taskPhase(execution, task, now);
    const at = (ms: number) => toTimestamp(ms);
    const attemptNo = attemptIndex(phase);
    const lastDone = phase.lastFinished;
    const startFailure = execution.script.startFailure;
    const conditions: Json[] = [];
    const started = phase.phase !== "pending" && !startFailure;
    conditions.push({
      type: "Started",
      state: started
        ? "CONDITION_SUCCEEDED"
        : startFailure && phase.phase === "failed"
          ? "CONDITION_FAILED"
          : "CONDITION_PENDING",
      lastTransitionTime: at(execution.provisionedAt),
    });
    const completed: Json =
      phase.phase === "succeeded"
        ? { state: "CONDITION_SUCCEEDED", message: "Task completed successfully." }
        : phase.phase === "failed"
          ? {
              state: "CONDITION_FAILED",
              message: startFailure?.message ?? failureMessage(task.attempts[attemptNo] as AttemptPlan),
              severity: "ERROR",
            }
          : phase.phase === "cancelled"
            ? { state: "CONDITION_FAILED", executionReason: "CANCELLED", message: "The task was cancelled." }
            : { state: phase.phase === "running" ? "CONDITION_RECONCILING" : "CONDITION_PENDING" };
    conditions.unshift({ type: "Completed", ...completed, lastTransitionTime: at("at" in phase ? phase.at : now) });
    const attempt = lastDone >= 0 ? (task.attempts[lastDone] as AttemptPlan) : undefined;
    const container = (execution.template.containers as Json[])[0] as Json;
    return {
      name: this.taskName(execution, task),
      uid: task.uid,
      generation: "1",
      labels: execution.labels,
      createTime: at(execution.createdAt),
      ...(started ? { scheduledTime: at(execution.provisionedAt), startTime: at(execution.provisionedAt) } : {}),
      ...("at" in phase ? { completionTime: at(phase.at) } : {}),
      updateTime: at(now),
      job: execution.job.name,
      execution: execution.name,
      containers: [container],
      maxRetries: execution.maxRetries,
      timeout: toDuration(execution.timeoutMs),
      ...(execution.template.serviceAccount ? { serviceAccount: execution.template.serviceAccount } : {}),
      reconciling: phase.phase === "pending" || phase.phase === "running",
      conditions,
      observedGeneration: "1",
      index: task.index,
      retried: Math.max(0, attemptNo),
      ...(startFailure && phase.phase === "failed"
        ? { lastAttemptResult: { status: { code: GrpcStatus.FAILED_PRECONDITION, message: startFailure.message } } }
        : attempt
          ? { lastAttemptResult: attemptResult(attempt) }
          : {}),
      logUri: `https://console.cloud.google.com/logs/viewer?project=${execution.job.project}`,
      etag: `"${task.uid.slice(0, 8)}"`,
    };
  }

  /**
   * Writes each attempt's due lines to Cloud Logging as Cloud Run does for
   * jobs: resource type `cloud_run_job` with labels job_name, location and
   * project_id; entry labels `run.googleapis.com/execution_name`,
   * `run.googleapis.com/task_index` and `run.googleapis.com/task_attempt`; log
   * `run.googleapis.com%2Fstdout` or `%2Fstderr` (Cloud Run docs, "Logging and
   * viewing logs": the filters users write, e.g. `resource.type="cloud_run_job"
   * labels."run.googleapis.com/execution_name"="…"`).
   */
  private writeDueLines(execution: StoredExecution, now: number): void {
    const stopAt = execution.cancelledAt ?? Number.POSITIVE_INFINITY;
    for (const task of execution.tasks) {
      task.attempts.forEach((attempt, attemptNo) => {
        const lines = attempt.script.logLines ?? [];
        for (let i = task.linesWritten[attemptNo] as number; i < lines.length; i++) {
          const line = lines[i] as NonNullable<AttemptScript["logLines"]>[number];
          const spec = typeof line === "string" ? { afterMs: 0, text: line } : line;
          const dueAt = attempt.start + spec.afterMs;
          if (dueAt > now || dueAt > attempt.end || dueAt >= stopAt) break;
          this.logging.write({
            logName: `projects/${execution.job.project}/logs/run.googleapis.com%2F${spec.stream ?? "stdout"}`,
            resource: {
              type: "cloud_run_job",
              labels: {
                job_name: execution.job.id,
                location: execution.job.location,
                project_id: execution.job.project,
              },
            },
            labels: {
              "run.googleapis.com/execution_name": execution.id,
              "run.googleapis.com/task_index": String(task.index),
              "run.googleapis.com/task_attempt": String(attemptNo),
            },
            textPayload: spec.text,
            timestamp: dueAt,
            ...("lagMs" in spec && spec.lagMs !== undefined ? { extraLagMs: spec.lagMs } : {}),
          });
          task.linesWritten[attemptNo] = i + 1;
        }
      });
    }
  }
}

/** A job's etag: new with every generation (job.proto, `etag`: "May be used to detect modification conflict during updates"). */
function jobEtag(job: StoredJob): string {
  return `"${job.uid.slice(0, 8)}-${job.generation}"`;
}

function attemptSucceeded(attempt: AttemptPlan): boolean {
  return !attempt.timedOut && attempt.script.termSignal === undefined && (attempt.script.exitCode ?? 0) === 0;
}

function attemptIndex(phase: TaskPhase): number {
  return phase.phase === "pending" ? 0 : phase.attempt;
}

function failureMessage(attempt: AttemptPlan | undefined): string {
  if (!attempt) return "The task failed.";
  if (attempt.script.message) return attempt.script.message;
  if (attempt.timedOut) return "The task timed out: it ran longer than the configured task timeout.";
  if (attempt.script.termSignal !== undefined)
    return `The container was terminated by signal ${attempt.script.termSignal}.`;
  return `The container exited with an error (exit code ${attempt.script.exitCode ?? 0}).`;
}

function attemptResult(attempt: AttemptPlan): Json {
  if (attemptSucceeded(attempt)) return { status: { code: GrpcStatus.OK }, exitCode: 0 };
  if (attempt.timedOut) return { status: { code: GrpcStatus.DEADLINE_EXCEEDED, message: failureMessage(attempt) } };
  if (attempt.script.termSignal !== undefined)
    return {
      status: { code: GrpcStatus.UNKNOWN, message: failureMessage(attempt) },
      termSignal: attempt.script.termSignal,
    };
  return { status: { code: GrpcStatus.UNKNOWN, message: failureMessage(attempt) }, exitCode: attempt.script.exitCode };
}
