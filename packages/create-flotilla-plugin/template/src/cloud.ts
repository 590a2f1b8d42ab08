// A stand-in for your cloud's job API, kept in memory so that this project runs as generated. Replace it
// with your cloud's SDK client. runner.ts uses it the way a plugin uses a real job API:
// - start a job under a name the plugin chooses; a second start under a taken name is refused, which is
//   what makes a retried RunJob safe (ECS's clientToken, a Cloud Run execution id, an ACI container group
//   name do the same);
// - describe many jobs in one call (as ECS DescribeTasks does), so status polls stay batched;
// - read a job's log in pages after a position, as log APIs do with their next-token;
// - stop a job; stopping a finished job changes nothing.
//
// A job of this fake cloud writes each word of its command as one line of output, 50 ms apart, then runs
// on for SLEEP_MS milliseconds (0 when unset) and exits with the code in its EXIT_CODE variable (0 when unset).
import { randomUUID } from "node:crypto";

/** A job's state, in the cloud's own words (runner.ts maps them onto the contract's JobState). */
export type CloudJobState = "PENDING" | "RUNNING" | "SUCCEEDED" | "FAILED" | "STOPPED";

/** What the cloud says about one job. */
export interface CloudJob {
  readonly id: string;
  readonly name: string;
  readonly region: string;
  readonly state: CloudJobState;
  /** Set once the job's process has exited. */
  readonly exitCode?: number;
  /** Why the job stopped, when it did not succeed. */
  readonly stoppedReason?: string;
  readonly createdAt: Date;
  readonly startedAt?: Date;
  readonly finishedAt?: Date;
}

/** One line of a job's output; `sequence` counts from 1. */
export interface LogEvent {
  readonly sequence: number;
  readonly message: string;
}

/** What {@link FakeCloud.startJob} needs. */
export interface StartJobInput {
  /** Unique per job: a second start under the same name is refused. */
  readonly name: string;
  readonly region: string;
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Stop the job after this long. */
  readonly timeoutMs?: number;
}

/** The cloud refused a start because a job already has that name. */
export class JobNameTakenError extends Error {
  constructor(readonly existingJobId: string) {
    super(`a job with this name already exists: ${existingJobId}`);
  }
}

/** Lines in one page of {@link FakeCloud.getLogEvents}. */
const LOG_PAGE_SIZE = 100;

interface StoredJob {
  job: CloudJob;
  log: LogEvent[];
  timers: NodeJS.Timeout[];
}

/** The in-memory cloud. */
export class FakeCloud {
  readonly #jobs = new Map<string, StoredJob>();

  /** The regions this cloud has. */
  async listRegions(): Promise<string[]> {
    return ["fake-1", "fake-2"];
  }

  /** Starts a job; throws {@link JobNameTakenError} when the name is taken. */
  async startJob(input: StartJobInput): Promise<CloudJob> {
    for (const stored of this.#jobs.values()) {
      if (stored.job.name === input.name) throw new JobNameTakenError(stored.job.id);
    }
    const id = `${input.region}/${randomUUID()}`;
    const stored: StoredJob = {
      job: { id, name: input.name, region: input.region, state: "PENDING", createdAt: new Date() },
      log: [],
      timers: [],
    };
    this.#jobs.set(id, stored);
    const exitCode = Number(input.env.EXIT_CODE ?? "0");
    const step = (delayMs: number, change: () => void) => stored.timers.push(setTimeout(change, delayMs));
    step(10, () => {
      stored.job = { ...stored.job, state: "RUNNING", startedAt: new Date() };
    });
    input.command.forEach((word, i) => {
      step(10 + 50 * (i + 1), () => stored.log.push({ sequence: stored.log.length + 1, message: word }));
    });
    const sleepMs = Number(input.env.SLEEP_MS ?? "0");
    step(10 + 50 * (input.command.length + 1) + sleepMs, () =>
      this.#finish(stored, exitCode === 0 ? "SUCCEEDED" : "FAILED", {
        exitCode,
        ...(exitCode === 0 ? {} : { stoppedReason: `exited with code ${exitCode}` }),
      }),
    );
    if (input.timeoutMs !== undefined) {
      step(input.timeoutMs, () =>
        this.#finish(stored, "FAILED", { stoppedReason: `timed out after ${input.timeoutMs} ms` }),
      );
    }
    return stored.job;
  }

  /** The jobs with these ids that exist, in no particular order; unknown ids are left out. */
  async describeJobs(ids: readonly string[]): Promise<CloudJob[]> {
    return ids.flatMap((id) => {
      const stored = this.#jobs.get(id);
      return stored ? [stored.job] : [];
    });
  }

  /** Up to one page of a job's log after `afterSequence` (0: from the start); undefined for an unknown job. */
  async getLogEvents(id: string, afterSequence: number): Promise<LogEvent[] | undefined> {
    return this.#jobs.get(id)?.log.slice(afterSequence, afterSequence + LOG_PAGE_SIZE);
  }

  /** Stops a job that is still running; undefined for an unknown job. */
  async stopJob(id: string, reason: string): Promise<CloudJob | undefined> {
    const stored = this.#jobs.get(id);
    if (stored) this.#finish(stored, "STOPPED", { stoppedReason: reason });
    return stored?.job;
  }

  #finish(stored: StoredJob, state: CloudJobState, outcome: { exitCode?: number; stoppedReason?: string }): void {
    if (["SUCCEEDED", "FAILED", "STOPPED"].includes(stored.job.state)) return;
    for (const timer of stored.timers) clearTimeout(timer);
    stored.job = { ...stored.job, state, ...outcome, finishedAt: new Date() };
  }
}
