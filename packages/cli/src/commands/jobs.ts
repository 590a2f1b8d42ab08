/**
 * `flotilla jobs list|status|logs|cancel`: the jobs in the job journal, the
 * one list of jobs on this machine (`flotilla run` records every job it
 * dispatches there, detached or not). Everything is read from the journal
 * through @flotilla/jobs' JobService, the module a daemon serving the host
 * API uses too:
 *
 * - `list` reads the journal only; no plugin is started.
 * - `status`, `logs` and `cancel` name a job by its handle (PROVIDER:JOB_ID,
 *   as `flotilla run` prints it) or its journal id. A job no live process
 *   follows (started with `--detach`, or its `flotilla run` was killed) is
 *   brought up to date from its provider first, the plugin started for it.
 * - `logs --follow` follows the job to its end: from the journal as the
 *   process that follows the job writes it, or by following it here when
 *   nobody else does. `--cursor N` resumes after line N of the stored log.
 */
import type { JobRef, JournalJob, JournalLogLine } from "@flotilla/jobs";
import { formatJobRef, isLeaseOwnerGone, parseJobRef } from "@flotilla/jobs";
import { NotFoundError } from "@flotilla/protocol";
import { CliError } from "../cli-error.js";
import { CliHost } from "../cli-host.js";
import { loadConfig } from "../config/load-config.js";
import { openCliJobs } from "../job-journal.js";
import type { Progress } from "../progress.js";
import { writeLine } from "../write-line.js";

/** Options of the `flotilla jobs` subcommands. */
export interface JobsOptions {
  config?: string;
  json?: boolean;
  verbose?: boolean;
  /** logs: keep following until the job ends. */
  follow?: boolean;
  /** logs: resume after this line of the stored log (a number, as the last run of `logs` printed). */
  cursor?: string;
  /** cancel: the reason recorded with the job. */
  reason?: string;
  /** list: how many jobs, newest first. */
  limit?: string;
  /** list: only jobs not finished yet. */
  unfinished?: boolean;
}

type JobsIo = { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; progress: Progress };

/** The subcommands. */
export type JobsAction = "list" | "status" | "logs" | "cancel";

/** How long `flotilla jobs cancel` waits for the job to stop. */
export const CANCEL_WAIT_MS = 120_000;

/** Runs one `jobs` subcommand; returns the exit code. `ref` names the job (all but `list`). */
export async function jobsCommand(
  action: JobsAction,
  ref: string | undefined,
  options: JobsOptions,
  io: JobsIo,
): Promise<number> {
  // Bad input is refused before anything is opened or started.
  const parsed = ref === undefined ? undefined : parseJobRef(ref);
  const cursor = parseCursor(options.cursor);
  const limit = options.limit === undefined ? undefined : parseLimit(options.limit);
  const { config } = loadConfig(options.config);
  const cli = new CliHost({ verbose: options.verbose ?? false, stderr: io.stderr });
  const jobs = await openCliJobs(config, cli);
  try {
    const service = jobs.service;
    if (action === "list") {
      const list = await service.list({
        ...(limit ? { limit } : {}),
        ...(options.unfinished ? { unfinished: true } : {}),
      });
      io.stdout.write(options.json ? `${JSON.stringify(list.map(summary), null, 2)}\n` : table(list));
      return 0;
    }
    const target = parsed as JobRef | string;
    try {
      if (action === "logs") {
        io.progress.update("reading the job's log");
        let last = cursor;
        let first = true;
        for await (const batch of service.logs(target, { after: cursor, follow: options.follow ?? false })) {
          if (first) {
            first = false;
            io.progress.clear();
          }
          for (const line of batch) {
            const waiting = options.json
              ? writeLine(io.stdout, JSON.stringify(logRecord(line)), false)
              : writeText(io, line);
            if (waiting) await waiting;
            last = line.seq;
          }
        }
        io.progress.clear();
        if (!options.json) io.stderr.write(`flotilla: resume with --cursor ${last}\n`);
        return 0;
      }
      if (action === "status") io.progress.update("asking the job's provider");
      else io.progress.update("cancelling the job");
      const job =
        action === "status"
          ? await service.status(target)
          : await service.cancel(target, options.reason ?? "cancelled with flotilla jobs cancel", {
              waitMs: CANCEL_WAIT_MS,
            });
      io.progress.clear();
      io.stdout.write(options.json ? `${JSON.stringify(summary(job), null, 2)}\n` : `${statusLine(job)}\n`);
      if (action === "cancel" && !job.finished) {
        io.stderr.write(
          `flotilla: job ${handleOf(job)} has not stopped yet after ${CANCEL_WAIT_MS / 1000} s; its provider was asked to cancel it\n`,
        );
        return 1;
      }
      return 0;
    } catch (err) {
      // An unknown job is an answer, not a failure of the CLI: exit 1 with the message.
      if (err instanceof NotFoundError) throw new CliError(err.message, 1);
      throw err;
    }
  } finally {
    io.progress.clear();
    await jobs.close();
    await cli.stop();
  }
}

/** The handle as `flotilla run` printed it, or the journal id of a job not dispatched yet. */
function handleOf(job: JournalJob): string {
  return job.handle ? formatJobRef({ provider: job.provider, jobId: job.handle.jobId }) : job.id;
}

/** One job as --json shows it. */
function summary(job: JournalJob) {
  return {
    handle: job.handle ? handleOf(job) : null,
    id: job.id,
    provider: job.provider,
    name: job.spec.name,
    state: job.state,
    finished: job.finished,
    exitCode: job.exitCode ?? null,
    providerExitCode: job.providerExitCode ?? null,
    reason: job.reason,
    createdAt: job.createdAt.toISOString(),
    finishedAt: job.finishedAt?.toISOString() ?? null,
    logLines: job.log.lines,
    cancelRequested: job.cancelRequest?.reason ?? null,
    followedBy: job.lease?.owner ?? null,
  };
}

/** `HANDLE  STATE  exit N  reason`, one line. */
function statusLine(job: JournalJob): string {
  const exit = job.exitCode ?? job.providerExitCode;
  return `${handleOf(job)}\t${job.state.toUpperCase()}\t${exit === undefined ? "-" : `exit ${exit}`}\t${job.reason}`;
}

/** The jobs as an aligned table, newest first. */
function table(list: readonly JournalJob[]): string {
  if (list.length === 0) return "no jobs in the journal yet; `flotilla run` records each job it starts\n";
  const rows = [
    ["HANDLE", "STATE", "EXIT", "CREATED", "NAME"],
    ...list.map((job) => [
      handleOf(job),
      unfollowed(job) ? `${job.state}*` : job.state,
      job.exitCode === undefined ? "-" : String(job.exitCode),
      job.createdAt.toISOString().slice(0, 19).replace("T", " "),
      job.spec.name,
    ]),
  ];
  const widths = (rows[0] as string[]).map((_, column) =>
    Math.max(...rows.map((row) => (row[column] as string).length)),
  );
  const lines = rows.map((row) =>
    row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] as number))).join("  "),
  );
  const note = list.some(unfollowed)
    ? "* as last seen: nobody follows it now; `flotilla jobs status HANDLE` asks its provider\n"
    : "";
  return `${lines.join("\n")}\n${note}`;
}

/** An unfinished job no live process follows (detached, or its follower died): its state is as last seen. */
function unfollowed(job: JournalJob): boolean {
  if (job.finished) return false;
  const lease = job.lease;
  return !lease || lease.expiresAt.getTime() <= Date.now() || isLeaseOwnerGone(lease.owner);
}

/** A stored line as text: stdout to stdout, stderr and system lines to stderr; a piece without its newline. */
function writeText(io: JobsIo, line: JournalLogLine): Promise<void> | undefined {
  return writeLine(line.stream === "stdout" ? io.stdout : io.stderr, line.text, line.continues);
}

/**
 * A stored line as one JSON record (--json), in the contract's words (STDOUT, STDERR, SYSTEM); its cursor is
 * what `--cursor` takes to resume after it. A piece of an over-long line says `"continues": true`.
 */
function logRecord(line: JournalLogLine) {
  return {
    cursor: String(line.seq),
    stream: line.stream.toUpperCase(),
    text: line.text,
    time: line.time.toISOString(),
    ...(line.continues ? { continues: true } : {}),
  };
}

function parseCursor(text: string | undefined): number {
  if (text === undefined || text === "") return 0;
  if (!/^\d+$/.test(text)) {
    throw new RangeError(
      `--cursor ${JSON.stringify(text)} is not a line number; pass the number \`flotilla jobs logs\` printed last ("resume with --cursor N"), or 0 for the whole log`,
    );
  }
  return Number(text);
}

function parseLimit(text: string): number {
  if (!/^[1-9]\d{0,5}$/.test(text)) {
    throw new RangeError(`--limit ${JSON.stringify(text)} is not a number of jobs from 1 to 999999`);
  }
  return Number(text);
}
