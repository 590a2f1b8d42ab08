/**
 * Writes one followed job's log lines into the journal in batches, each
 * batch with the provider cursor after its last line in the same
 * transaction, and the tracker's other writes about the job (its handle,
 * its states) in between, in the order they happened.
 *
 * Why batches: a commit per line would make a job that floods its log wait
 * on the journal's disk; a batch is written once it holds `maxLines` lines
 * or `maxBytes` of text, or `delayMs` after its first line, whichever comes
 * first. Until then the lines are not stored and the saved cursor is the one
 * before them, so a follower that dies with a batch pending reads those
 * lines from the provider again: never lost, never stored twice.
 *
 * A full batch hands the caller a promise (the write), which the provider
 * runner waits for before it reads on: the journal's pace reaches the
 * provider through gRPC flow control, and the writer holds at most one batch.
 */
import type { LogLine } from "@flotilla/exec";
import type { JobJournal, NewJournalLogLine } from "./journal.js";

/** How many lines, bytes or milliseconds a batch collects before it is written. */
export interface LogBatchLimits {
  /** Default 512. */
  readonly maxLines?: number;
  /** Default 256 KiB. */
  readonly maxBytes?: number;
  /** Default 50 ms. */
  readonly delayMs?: number;
}

/** The journal writes of one followed job, in order. */
export class JournalLogWriter {
  readonly #journal: JobJournal;
  readonly #jobId: string;
  readonly #owner: string;
  readonly #maxLines: number;
  readonly #maxBytes: number;
  readonly #delayMs: number;
  /** Told once, when a write fails (the lease was lost, the disk failed): the follower stops. */
  readonly #onFailure: (error: unknown) => void;
  #pending: NewJournalLogLine[] = [];
  #pendingBytes = 0;
  /** The provider cursor after the last line received (stored with the batch that holds that line). */
  #cursor: string;
  #timer: NodeJS.Timeout | undefined;
  #queue: Promise<void> = Promise.resolve();
  #failure: unknown;

  constructor(
    journal: JobJournal,
    jobId: string,
    owner: string,
    cursor: string,
    limits: LogBatchLimits,
    onFailure: (error: unknown) => void,
  ) {
    this.#journal = journal;
    this.#jobId = jobId;
    this.#owner = owner;
    this.#cursor = cursor;
    this.#maxLines = limits.maxLines ?? 512;
    this.#maxBytes = limits.maxBytes ?? 256 * 1024;
    this.#delayMs = limits.delayMs ?? 50;
    this.#onFailure = onFailure;
  }

  /** The first write that failed, if one did: nothing is written after it. */
  get failure(): unknown {
    return this.#failure;
  }

  /** Adds a line to the batch; a promise (the batch's write) when the batch is full, else undefined. */
  log(line: LogLine): Promise<void> | undefined {
    this.#pending.push({ stream: line.stream, text: line.text, continues: line.continues === true });
    this.#pendingBytes += line.text.length;
    if (line.cursor) this.#cursor = line.cursor;
    if (this.#pending.length >= this.#maxLines || this.#pendingBytes >= this.#maxBytes) return this.flush();
    if (!this.#timer) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.flush().catch(() => {});
      }, this.#delayMs);
    }
    return undefined;
  }

  /** Writes the batch now; resolves once it and every write before it are stored. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0) return this.#queue;
    const lines = this.#pending;
    const cursor = this.#cursor;
    this.#pending = [];
    this.#pendingBytes = 0;
    return this.write(() => this.#journal.appendLog(this.#jobId, this.#owner, lines, cursor));
  }

  /** Queues a write after the ones before it (the pending batch first, so the order of events is kept). */
  write(operation: () => Promise<void>): Promise<void> {
    if (this.#pending.length > 0) this.flush().catch(() => {});
    const next = this.#queue.then(() => {
      if (this.#failure !== undefined) throw this.#failure;
      return operation();
    });
    this.#queue = next.catch((error: unknown) => {
      if (this.#failure === undefined) {
        this.#failure = error;
        this.#onFailure(error);
      }
    });
    return next;
  }

  /** Drops the batch not written yet (the follower stopped: those lines are read again by the next one). */
  discard(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending = [];
    this.#pendingBytes = 0;
  }
}
