/**
 * Everything a configured GCP plugin holds: the validated config, the Google
 * clients, the shared status poller and the entries.list budgets. Built by
 * Configure; replaced (and the old one disposed) by a later Configure.
 */
import { RequestBudget } from "@flotilla/plugin-sdk";
import { Code } from "@flotilla/protocol";
import type { GcpClients } from "./clients.js";
import type { GcpProviderConfig } from "./config-schema.js";
import { translateGcpError } from "./errors.js";
import type { ExecutionRef } from "./execution-name.js";
import { managedByLabel } from "./job-spec.js";
import { ExecutionPoller } from "./status-poller.js";

/** Attempts at deleting a finished job before giving up with a warning. */
const deleteAttempts = 5;

/** A configured plugin's state. */
export class GcpRuntime {
  readonly poller: ExecutionPoller;
  private readonly logBudgets = new Map<string, RequestBudget>();
  private readonly retries = new Set<NodeJS.Timeout>();
  private disposed = false;

  constructor(
    readonly config: GcpProviderConfig,
    readonly clients: GcpClients,
    private readonly warn: (message: string) => void = () => {},
  ) {
    this.poller = new ExecutionPoller({
      clients,
      intervalMs: config.statusPollIntervalMs,
      ...(config.deleteFinishedJobs ? { onFinished: (ref: ExecutionRef) => void this.deleteJob(ref) } : {}),
    });
  }

  /**
   * The entries.list budget of a project, shared by every followed log there:
   * "Number of entries.list requests — 60 per minute, per Google Cloud
   * project" (Logging quotas page). Burst 1: the quota counts per minute, and
   * other readers (the console, other tools) share it.
   */
  logBudget(project: string): RequestBudget {
    let budget = this.logBudgets.get(project);
    if (!budget) {
      budget = new RequestBudget({ ratePerSecond: this.config.logReadsPerMinute / 60 });
      this.logBudgets.set(project, budget);
    }
    return budget;
  }

  /**
   * Deletes the Cloud Run Job of a finished execution (Cloud Run keeps at most
   * 1000 jobs per project and region). Its logs stay in Cloud Logging. Not
   * waited for: DeleteJob is a long-running operation. A failed delete is
   * tried again a few times with growing waits (the Cloud Run client retries
   * nothing on its own), then left to a warning.
   */
  async deleteJob(ref: ExecutionRef, attempt = 0): Promise<void> {
    try {
      await (await this.clients.jobs()).deleteJob({ name: ref.jobName });
    } catch (err) {
      const error = translateGcpError(err, "Cloud Run DeleteJob");
      if (error.code === Code.NotFound || this.disposed) return;
      if (attempt + 1 >= deleteAttempts) {
        this.warn(`could not delete finished job ${ref.jobName} after ${deleteAttempts} attempts: ${error.message}`);
        return;
      }
      const timer = setTimeout(
        () => {
          this.retries.delete(timer);
          void this.deleteJob(ref, attempt + 1);
        },
        this.config.statusPollIntervalMs * 2 ** attempt,
      );
      timer.unref();
      this.retries.add(timer);
    }
  }

  /**
   * Deletes the Flotilla jobs (label managed-by=flotilla) of a region whose
   * latest execution has finished: what a plugin process that stopped early,
   * or a delete that kept failing, left behind. Other jobs are never touched.
   * Returns how many were deleted.
   */
  async sweepFinishedJobs(project: string, region: string): Promise<number> {
    const jobs = await this.clients.jobs();
    const finished: string[] = [];
    try {
      for await (const job of jobs.listJobsAsync(
        { parent: `projects/${project}/locations/${region}`, pageSize: 500 },
        { autoPaginate: false },
      )) {
        if (job.labels?.[managedByLabel.key] === managedByLabel.value && job.latestCreatedExecution?.completionTime)
          finished.push(job.name as string);
      }
    } catch (err) {
      throw translateGcpError(err, "Cloud Run ListJobs");
    }
    let deleted = 0;
    for (const name of finished) {
      try {
        await jobs.deleteJob({ name });
        deleted += 1;
      } catch (err) {
        const error = translateGcpError(err, "Cloud Run DeleteJob");
        if (error.code !== Code.NotFound) this.warn(`could not delete finished job ${name}: ${error.message}`);
      }
    }
    return deleted;
  }

  /** Stops polling and closes the clients. */
  async dispose(): Promise<void> {
    this.disposed = true;
    for (const timer of this.retries) clearTimeout(timer);
    this.retries.clear();
    this.poller.stop();
    await this.clients.close();
  }
}
