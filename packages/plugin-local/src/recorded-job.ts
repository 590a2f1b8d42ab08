/**
 * A job known only from its record on disk: it ran in an earlier (or
 * another) plugin process. It answers status, logs and cancel the way a live
 * job does, as far as a record allows.
 */
import { isProcessAlive } from "@flotilla/process";
import { FailedPreconditionError, JobState } from "@flotilla/protocol";
import { JobLog } from "./job-log.js";
import { isLiveState, type StoredJob } from "./job-store.js";
import type { LocalJobSnapshot } from "./local-job.js";
import { LogFile } from "./log-file.js";

/** The read-only view of a recorded job. */
export class RecordedJob {
  /** The recorded log, complete as far as it was written; closed; read from disk batch by batch, never whole. */
  readonly log: JobLog;
  /** Already settled: nothing runs here. */
  readonly finished: Promise<void> = Promise.resolve();
  private readonly status: StoredJob["status"];

  constructor(
    /** The job id. */
    readonly id: string,
    record: StoredJob,
  ) {
    this.status = record.status;
    this.log = JobLog.recorded(() => LogFile.open(record.logPath));
  }

  /** True while the plugin process that runs the job is alive elsewhere. */
  get runningElsewhere(): boolean {
    return (
      isLiveState(this.status.state) && this.status.pluginPid !== process.pid && isProcessAlive(this.status.pluginPid)
    );
  }

  /** The recorded status; a job whose plugin died before recording an end is UNKNOWN. */
  snapshot(): LocalJobSnapshot {
    const s = this.status;
    const lost = isLiveState(s.state) && !this.runningElsewhere;
    return {
      state: lost ? JobState.UNKNOWN : s.state,
      exitCode: s.exitCode,
      reason: lost
        ? `the local provider plugin that ran this job (pid ${s.pluginPid}) stopped before recording how it ended`
        : this.runningElsewhere
          ? `running in another local provider plugin (pid ${s.pluginPid}); its log here is what was recorded so far`
          : s.reason,
      createdAt: new Date(s.createdAt),
      startedAt: s.startedAt ? new Date(s.startedAt) : undefined,
      finishedAt: s.finishedAt ? new Date(s.finishedAt) : undefined,
    };
  }

  /** A finished job needs no cancel; one running in another plugin must be cancelled there. */
  cancel(_reason: string): void {
    if (this.runningElsewhere) {
      throw new FailedPreconditionError(
        `job ${this.id} runs in another local provider plugin (pid ${this.status.pluginPid}); cancel it there (Ctrl-C in the flotilla run that started it)`,
      );
    }
  }
}
