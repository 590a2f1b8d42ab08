/**
 * A job known from its record on disk: it ran, or runs, in another process
 * (an earlier or another plugin, or a durable job's supervisor). It answers
 * status, logs and cancel the way a live job does, as far as a record allows:
 * a job still running elsewhere has a log a follower reads as it grows, and a
 * durable job is cancelled through its supervisor.
 */
import { isProcessAlive } from "@flotilla/process";
import { FailedPreconditionError, JobState } from "@flotilla/protocol";
import { JobLog } from "./job-log.js";
import { isLiveState, type StoredJob, type StoredJobStatus } from "./job-store.js";
import type { LocalJobSnapshot } from "./local-job.js";
import { LogFile } from "./log-file.js";
import { cancelSupervisedJob } from "./supervised-job.js";

/** Where a recorded job's record can be read again, for a job still running elsewhere. */
export interface RecordedJobSource {
  /** Reads the job's status again (undefined when the record is gone). */
  readonly reload?: () => StoredJobStatus | undefined;
  /** The job's record directory (where a durable job's cancel request goes). */
  readonly jobDir?: string;
}

/** The view of a recorded job. */
export class RecordedJob {
  /** The recorded log, read from disk batch by batch, never whole; followed as it grows while the job runs elsewhere. */
  readonly log: JobLog;
  /** Already settled: nothing runs here. */
  readonly finished: Promise<void> = Promise.resolve();
  private readonly status: StoredJobStatus;
  private readonly source: RecordedJobSource;

  constructor(
    /** The job id. */
    readonly id: string,
    record: StoredJob,
    source: RecordedJobSource = {},
  ) {
    this.status = record.status;
    this.source = source;
    this.log = JobLog.recorded(() => LogFile.open(record.logPath), {
      stillWriting: () => runsElsewhere(this.source.reload?.() ?? this.status),
    });
  }

  /** True while the process that runs the job (another plugin, or its supervisor) is alive elsewhere. */
  get runningElsewhere(): boolean {
    return runsElsewhere(this.status);
  }

  /** The recorded status; a job whose process died before recording an end is UNKNOWN. */
  snapshot(): LocalJobSnapshot {
    const s = this.status;
    const elsewhere = this.runningElsewhere;
    const lost = isLiveState(s.state) && !elsewhere;
    const runner = s.supervised ? "supervisor" : "local provider plugin";
    return {
      state: lost ? JobState.UNKNOWN : s.state,
      exitCode: s.exitCode,
      reason: lost
        ? `the ${runner} that ran this job (pid ${s.pluginPid}) stopped before recording how it ended`
        : elsewhere && !s.supervised
          ? `running in another local provider plugin (pid ${s.pluginPid})`
          : s.reason,
      createdAt: new Date(s.createdAt),
      startedAt: s.startedAt ? new Date(s.startedAt) : undefined,
      finishedAt: s.finishedAt ? new Date(s.finishedAt) : undefined,
    };
  }

  /**
   * A finished job needs no cancel; a durable job is cancelled through its supervisor; a job running in another
   * plugin must be cancelled there.
   */
  cancel(reason: string): void {
    if (!this.runningElsewhere) return;
    if (this.status.supervised && this.source.jobDir) {
      cancelSupervisedJob(this.source.jobDir, this.id, this.status.pluginPid, reason);
      return;
    }
    throw new FailedPreconditionError(
      `job ${this.id} runs in another local provider plugin (pid ${this.status.pluginPid}); cancel it there (Ctrl-C in the flotilla run that started it)`,
    );
  }
}

function runsElsewhere(status: StoredJobStatus): boolean {
  return isLiveState(status.state) && status.pluginPid !== process.pid && isProcessAlive(status.pluginPid);
}
