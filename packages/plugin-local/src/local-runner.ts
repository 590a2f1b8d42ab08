/**
 * The local provider's IaCProviderRunnerService: jobs run as processes on
 * the plugin's machine, tracked in memory for the plugin's lifetime.
 */
import { randomUUID } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type HandlerContext, jobTimeoutMs, type PluginLogger, type ServiceImpl } from "@flotilla/plugin-sdk";
import type { ProcessGroupRegistry } from "@flotilla/process";
import {
  type BatchJobStatusRequest,
  type CancelJobRequest,
  FailedPreconditionError,
  type IaCProviderRunnerService,
  InvalidArgumentError,
  type JobHandle,
  type JobLogsRequest,
  type JobLogsResponseSchema,
  type JobSpec,
  type JobStatusRequest,
  JobStatusSchema,
  NotFoundError,
  type RunJobRequest,
  secretSourceVariables,
  toJobError,
} from "@flotilla/protocol";
import { type LocalConfig, localConfig, localTarget } from "./config.js";
import { InvalidCursorError, type JobLogEntry } from "./job-log.js";
import { DEFAULT_MAX_STORED_JOBS, JobStore } from "./job-store.js";
import { LocalJob, type LocalJobLaunch, type LocalJobObserver } from "./local-job.js";
import { LogFile } from "./log-file.js";
import { RecordedJob } from "./recorded-job.js";
import { resolveSecretEnv } from "./secret-ref.js";
import { startSupervisedJob } from "./supervised-job.js";

/** Environment variables of the plugin handshake; a job has no business seeing them. */
const HANDSHAKE_ENV = /^(PLUGIN_|FLOTILLA_PLUGIN_MAGIC_COOKIE$)/;

/** Most handles one BatchJobStatus call may ask about (the contract's limit). */
export const MAX_BATCH_HANDLES = 1000;

/**
 * Most finished jobs kept in memory (with their logs); the oldest finished
 * are forgotten first. Matches how many records the state store keeps, so
 * with a state_dir an evicted job is still answered from disk.
 */
export const DEFAULT_MAX_FINISHED_JOBS = DEFAULT_MAX_STORED_JOBS;

/** Where the runner gets the plugin's environment and configuration. */
export interface LocalRunnerOptions {
  /** The provider name written into handles. */
  providerName?: string;
  /** The plugin's own environment: secrets resolve from it, jobs may inherit it. */
  environment?: NodeJS.ProcessEnv;
  /** Reads the current configuration (Configure may change it at any time). */
  config?: () => LocalConfig;
  /** Kills job process groups if the plugin dies without an exit hook (main.ts passes one). */
  watchdog?: ProcessGroupRegistry;
  /** Most finished jobs kept in memory; default {@link DEFAULT_MAX_FINISHED_JOBS}. Running jobs are always kept. */
  maxFinishedJobs?: number;
  /** Where warnings go (job records that cannot be written); default the logger the SDK hands every call. */
  logger?: Pick<PluginLogger, "warn">;
  /** How a durable job's supervisor is started, before its job id; default {@link defaultSupervisorCommand}. */
  supervisorCommand?: readonly string[];
}

/**
 * Runs and tracks local jobs. Its methods have the shapes the SDK expects
 * of an IaCProviderRunnerService implementation (see {@link LocalRunner.service}).
 */
export class LocalRunner {
  private readonly jobs = new Map<string, LocalJob>();
  private readonly jobByIdempotencyKey = new Map<string, string>();
  /** The idempotency key a job was started with, to forget it along with the job. */
  private readonly keyByJob = new Map<string, string>();
  /** Finished jobs still in memory, oldest first (a Set keeps insertion order). */
  private readonly finishedJobs = new Set<string>();
  private readonly maxFinishedJobs: number;
  /** RunJob calls with a key still resolving secrets, so a concurrent retry waits for them. */
  private readonly startingByKey = new Map<string, Promise<string>>();
  private readonly supervisorCommand: readonly string[] | undefined;
  private readonly providerName: string;
  private readonly environment: NodeJS.ProcessEnv;
  private readonly config: () => LocalConfig;
  private store: JobStore | undefined;
  private readonly watchdog: ProcessGroupRegistry | undefined;
  /** The plugin's logger: given, or the one the SDK hands the calls (warnings come from outside any call). */
  private logger: Pick<PluginLogger, "warn"> | undefined;
  private readonly loggerGiven: boolean;

  constructor(options: LocalRunnerOptions = {}) {
    this.logger = options.logger;
    this.loggerGiven = options.logger !== undefined;
    this.providerName = options.providerName ?? "local";
    this.environment = options.environment ?? process.env;
    this.config = options.config ?? (() => localConfig.defaults());
    this.watchdog = options.watchdog;
    this.maxFinishedJobs = options.maxFinishedJobs ?? DEFAULT_MAX_FINISHED_JOBS;
    this.supervisorCommand = options.supervisorCommand;
  }

  /** The service implementation handed to `serve()`. */
  service(): ServiceImpl<typeof IaCProviderRunnerService> {
    // Every call carries the plugin's logger; the job store warns from timers and process events, outside any call.
    const useLogger = (context: Pick<HandlerContext, "logger">) => {
      if (!this.loggerGiven) this.logger = context.logger;
    };
    return {
      runJob: (request, context) => {
        useLogger(context);
        return this.runJob(request);
      },
      jobStatus: (request, context) => {
        useLogger(context);
        return this.jobStatus(request);
      },
      batchJobStatus: (request, context) => {
        useLogger(context);
        return this.batchJobStatus(request);
      },
      jobLogs: (request, context) => {
        useLogger(context);
        return this.jobLogs(request, context);
      },
      cancelJob: (request, context) => {
        useLogger(context);
        return this.cancelJob(request);
      },
    };
  }

  /**
   * Starts a job, or returns the job an earlier call with the same idempotency key started: in this process,
   * or (with a state_dir) in an earlier one, whose record keeps the key.
   */
  async runJob(request: RunJobRequest): Promise<{ handle: JobHandle; deduplicated: boolean }> {
    const spec = request.spec;
    if (!spec) throw new InvalidArgumentError("spec is missing; RunJob needs a JobSpec with at least a command");
    const key = spec.idempotencyKey;
    if (key !== "") {
      // Check synchronously first: awaiting when nothing is pending would let a concurrent retry slip past.
      const known = this.jobByIdempotencyKey.get(key) ?? this.jobStore()?.jobForKey(key);
      if (known !== undefined) return { handle: this.handle(known), deduplicated: true };
      const pending = this.startingByKey.get(key);
      if (pending) {
        // If the first call failed (e.g. a bad secret), this retry starts the job itself.
        const id = await pending.catch(() => undefined);
        if (id !== undefined) return { handle: this.handle(id), deduplicated: true };
        return this.runJob(request);
      }
    }
    const starting = this.startJob(spec);
    if (key !== "") {
      const startingId = starting.then((started) => started.id);
      // Awaited only by a concurrent retry, if any; the failure itself reaches this call's caller below.
      startingId.catch(() => {});
      this.startingByKey.set(key, startingId);
    }
    try {
      const { id, deduplicated } = await starting;
      // A job that finished and was evicted before this line ran has no key to keep.
      if (key !== "" && this.jobs.has(id)) {
        this.jobByIdempotencyKey.set(key, id);
        this.keyByJob.set(id, key);
      }
      return { handle: this.handle(id), deduplicated };
    } finally {
      if (key !== "") this.startingByKey.delete(key);
    }
  }

  /** The status of one job; NOT_FOUND for a handle this plugin never issued. */
  jobStatus(request: JobStatusRequest): MessageInitShape<typeof import("@flotilla/protocol").JobStatusResponseSchema> {
    return { status: this.statusOf(this.jobFor(request.handle)) };
  }

  /** Statuses of many jobs; an unknown handle is reported in its result, not as a failed call. */
  batchJobStatus(
    request: BatchJobStatusRequest,
  ): MessageInitShape<typeof import("@flotilla/protocol").BatchJobStatusResponseSchema> {
    if (request.handles.length > MAX_BATCH_HANDLES) {
      throw new InvalidArgumentError(
        `handles: ${request.handles.length} handles asked for, at most ${MAX_BATCH_HANDLES} per call; split the request`,
      );
    }
    return {
      results: request.handles.map((handle) => {
        try {
          return { handle, result: { case: "status" as const, value: this.statusOf(this.jobFor(handle)) } };
        } catch (err) {
          return { handle, result: { case: "error" as const, value: toJobError(err) } };
        }
      }),
    };
  }

  /** Streams a job's log lines from a cursor, following the job while it runs when asked. */
  async *jobLogs(
    request: JobLogsRequest,
    context: Pick<HandlerContext, "signal">,
  ): AsyncGenerator<MessageInitShape<typeof JobLogsResponseSchema>> {
    const job = this.jobFor(request.handle);
    // Batches are bounded by bytes (job-log.ts DEFAULT_BATCH_LIMITS), and the SDK writes the next one only
    // once HTTP/2 flow control lets it: a slow reader holds one batch here, however far behind it is.
    let batches: AsyncGenerator<JobLogEntry[]>;
    try {
      batches = job.log.stream(request.cursor, request.follow, context.signal);
      // The first step validates the cursor; do it here to turn its error into INVALID_ARGUMENT.
      const first = await batches.next();
      if (first.done) return;
      yield { lines: first.value.map(toLogLine) };
    } catch (err) {
      if (err instanceof InvalidCursorError) throw new InvalidArgumentError(`cursor: ${err.message}`);
      throw err;
    }
    for await (const lines of batches) yield { lines: lines.map(toLogLine) };
  }

  /** Cancels a job; cancelling a finished job returns its final status. */
  cancelJob(request: CancelJobRequest): MessageInitShape<typeof import("@flotilla/protocol").CancelJobResponseSchema> {
    const job = this.jobFor(request.handle);
    job.cancel(request.reason);
    return { status: this.statusOf(job) };
  }

  /** Looks up a job by id (for tests and for the plugin's shutdown). */
  job(id: string): LocalJob | undefined {
    return this.jobs.get(id);
  }

  /**
   * Cancels every running job (SIGTERM to its process group, so its own
   * clean-up runs; SIGKILL after `graceMs`, default the configured
   * kill_grace_ms) and waits until all have stopped: the plugin leaves
   * nothing behind.
   */
  async shutdown(reason = "the local provider plugin is shutting down", graceMs?: number): Promise<void> {
    for (const job of this.jobs.values()) job.cancel(reason, graceMs);
    await Promise.all([...this.jobs.values()].map((job) => job.finished));
  }

  /** How many jobs are held in memory, running and finished (for tests of eviction). */
  get jobCount(): number {
    return this.jobs.size;
  }

  /**
   * Sends SIGKILL to every job still running, synchronously: for the
   * process's `exit` event, where nothing asynchronous runs any more.
   */
  killAllNow(): void {
    for (const job of this.jobs.values())
      job.killNow("cancelled: the local provider plugin stopped before the job ended");
  }

  /** Starts the job; with a state_dir, under a key claimed on disk first (another process may hold it: then that job). */
  private async startJob(spec: JobSpec): Promise<{ id: string; deduplicated: boolean }> {
    const launch = await this.launchFor(spec);
    const config = this.config();
    const id = randomUUID();
    const store = this.jobStore();
    const key = spec.idempotencyKey;
    if (store && key !== "") {
      const holder = store.claimKey(key, id);
      if (holder !== undefined) return { id: holder, deduplicated: true };
    }
    if (config.durable_jobs) {
      if (!store || !config.state_dir) {
        throw new FailedPreconditionError("local provider: durable_jobs needs state_dir; configure one");
      }
      try {
        await startSupervisedJob(
          {
            stateDir: config.state_dir,
            jobId: id,
            launch,
            killGraceMs: config.kill_grace_ms,
            maxLogLines: config.max_log_lines,
          },
          store.jobDirectory(id),
          this.supervisorCommand,
        );
      } catch (error) {
        if (key !== "") store.releaseKey(key, id);
        throw error;
      }
      return { id, deduplicated: false };
    }
    const observer: LocalJobObserver | undefined = store && {
      state: (snapshot) => store.writeStatus(id, snapshot),
    };
    // Every line goes to disk, so a reader that falls behind the memory window reads it back from there
    // (see job-log.ts for why the log spills rather than slowing the job): into the job's record with a
    // state_dir, else into a spool file in the temp dir that is unlinked at once and lives as long as the job is held.
    const logFile = store
      ? store.createLogFile(id)
      : LogFile.create(join(tmpdir(), `flotilla-local-log-${id}`), { spool: true });
    const job = new LocalJob(id, launch, {
      logFile,
      maxLogLines: config.max_log_lines,
      killGraceMs: config.kill_grace_ms,
      ...(observer ? { observer } : {}),
      ...(this.watchdog ? { watchdog: this.watchdog } : {}),
    });
    observer?.state(job.snapshot());
    this.jobs.set(id, job);
    job.start();
    void job.finished.then(() => this.rememberFinished(id));
    return { id, deduplicated: false };
  }

  /** Records a job as finished and forgets the oldest finished jobs beyond the limit. */
  private rememberFinished(id: string): void {
    this.finishedJobs.add(id);
    for (const oldest of this.finishedJobs) {
      if (this.finishedJobs.size <= this.maxFinishedJobs) break;
      this.finishedJobs.delete(oldest);
      this.jobs.get(oldest)?.log.dispose();
      this.jobs.delete(oldest);
      const key = this.keyByJob.get(oldest);
      if (key !== undefined) {
        this.keyByJob.delete(oldest);
        this.jobByIdempotencyKey.delete(key);
      }
    }
  }

  private async launchFor(spec: JobSpec): Promise<LocalJobLaunch> {
    const { shell } = localTarget.read(spec.target);
    const argv = [...spec.command, ...spec.args];
    if (argv.length === 0 || argv[0] === "") {
      throw new InvalidArgumentError(
        'spec.command: empty; the local provider needs a program to run, e.g. command ["echo", "hello"]',
      );
    }
    for (const name of Object.keys(spec.env)) {
      if (name === "" || name.includes("=")) {
        throw new InvalidArgumentError(`spec.env: ${JSON.stringify(name)} is not a valid variable name`);
      }
    }
    const config = this.config();
    const secrets = await resolveSecretEnv(spec.secretEnv, {
      environment: this.environment,
      secretsDir: config.secrets_dir,
    });
    const env: Record<string, string> = {};
    if (config.inherit_env) {
      // A variable a secret is read from reaches the job as that secret, under the name the job asked for;
      // not also under its own name (spec.env can still set it, when the job asks for it by name).
      const secretSources = new Set(secretSourceVariables(spec.secretEnv));
      for (const [name, value] of Object.entries(this.environment)) {
        if (value !== undefined && !HANDSHAKE_ENV.test(name) && !secretSources.has(name)) env[name] = value;
      }
    }
    Object.assign(env, spec.env, secrets);
    // With shell, the first word is the script and the rest are its positional parameters
    // ($1, $2, ...; "sh" is $0), the way `sh -c script sh args...` works: every argument
    // arrives intact, spaces and quotes included, instead of being re-split by the shell.
    const [script, ...rest] = argv as [string, ...string[]];
    const [file, ...args]: [string, ...string[]] = shell ? ["/bin/sh", "-c", script, "sh", ...rest] : [script, ...rest];
    return {
      file,
      args,
      env,
      cwd: spec.workingDir || config.working_dir,
      timeoutMs: jobTimeoutMs(spec.timeout, "spec.timeout"),
    };
  }

  /** The store of the configured state_dir (pruned when first opened), or undefined without one. */
  private jobStore(): JobStore | undefined {
    const dir = this.config().state_dir;
    if (!dir) return undefined;
    if (this.store?.dir !== dir) {
      this.store = new JobStore(dir, process.pid, (message) => this.logger?.warn(message));
      this.store.prune();
    }
    return this.store;
  }

  private jobFor(handle: JobHandle | undefined): LocalJob | RecordedJob {
    if (!handle || handle.jobId === "") throw new InvalidArgumentError("handle: missing or without a job_id");
    if (handle.provider !== "" && handle.provider !== this.providerName) {
      throw new FailedPreconditionError(
        `handle: job ${handle.jobId} belongs to provider "${handle.provider}", not "${this.providerName}"`,
      );
    }
    const job = this.jobs.get(handle.jobId);
    if (job) return job;
    const store = this.jobStore();
    const record = store?.load(handle.jobId);
    if (store && record) {
      return new RecordedJob(handle.jobId, record, {
        reload: () => store.load(handle.jobId)?.status,
        jobDir: join(store.dir, handle.jobId),
      });
    }
    throw new NotFoundError(
      this.config().state_dir
        ? `job ${handle.jobId} is not known to this local provider: it is neither running here nor recorded in ${this.config().state_dir}`
        : `job ${handle.jobId} is not known to this local provider; without a state_dir, local jobs live only as long as the plugin process that ran them`,
    );
  }

  private handle(id: string): JobHandle {
    return { provider: this.providerName, jobId: id } as JobHandle;
  }

  private statusOf(job: LocalJob | RecordedJob) {
    const s = job.snapshot();
    return create(JobStatusSchema, {
      handle: this.handle(job.id),
      state: s.state,
      exitCode: s.exitCode,
      reason: s.reason,
      createdAt: timestampFromDate(s.createdAt),
      startedAt: s.startedAt && timestampFromDate(s.startedAt),
      finishedAt: s.finishedAt && timestampFromDate(s.finishedAt),
    });
  }
}

function toLogLine(entry: JobLogEntry) {
  return {
    stream: entry.stream,
    text: entry.text,
    time: timestampFromDate(entry.time),
    cursor: entry.cursor,
    continues: entry.continues,
  };
}
