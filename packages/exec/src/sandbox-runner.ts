/**
 * The one interface every execution environment implements: run one command
 * somewhere, stream its log lines as they come, return its real exit code.
 */
import { InvalidArgumentError } from "@flotilla/protocol";

/**
 * Who a run belongs to. Runners derive the names of the objects they create
 * (Pods, workflows, containers) from it deterministically, so dispatching the
 * same identity twice finds the first run instead of starting a second.
 */
export interface JobIdentity {
  /** The caller's stable id for the job, e.g. "nightly-report/2026-11-23". */
  readonly jobId: string;
  /** Which try this is; a new attempt gets a new name. Defaults to 1. */
  readonly attempt?: number;
}

/** What to run. */
export interface SandboxRunRequest {
  /** Container image. Required by container runners; the local runner ignores it. */
  readonly image?: string;
  /** The program and its arguments, executed directly (no shell). */
  readonly command: readonly string[];
  /** Plain environment variables. Never put secret values here. */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Secret environment variables as references, name to `secret://...`.
   * Runners pass them through unresolved to the place that resolves them
   * (a Kubernetes secretKeyRef, the provider plugin, a configured resolver).
   */
  readonly secretEnv?: Readonly<Record<string, string>>;
  /** Working directory inside the sandbox. */
  readonly workingDir?: string;
  /** Upper bound on the run; when it passes the run is stopped with reason "timeout". */
  readonly timeoutMs?: number;
  /** Labels copied onto the objects the run creates (values at most 63 characters). */
  readonly labels?: Readonly<Record<string, string>>;
  /** Deduplicates retried dispatches; defaults to one derived from {@link jobIdentity}. */
  readonly idempotencyKey?: string;
  /** Whose run this is; names are derived from it. */
  readonly jobIdentity: JobIdentity;
}

/** Which output a log line came from; "system" lines are the runner's own remarks. */
export type LogStream = "stdout" | "stderr" | "system";

/** One line of a run's output, without its trailing newline. */
export interface LogLine {
  readonly stream: LogStream;
  readonly text: string;
  /**
   * True for a piece of a line too long to be held whole (provider-ephemeral: longer than
   * MAX_JOINED_LINE_BYTES, 1 MiB): the line goes on in the next LogLine of the same stream, and its
   * last piece has no flag. A caller writing lines to a stream writes a piece without a newline.
   */
  readonly continues?: true;
  /**
   * provider-ephemeral, with `joinLines: false`: the provider's cursor just after this line (or piece).
   * Resuming the job's log after it (ProviderRunOptions.resume) continues with the next line, so a caller
   * that keeps the cursor of the last line it stored gets every line exactly once across restarts.
   */
  readonly cursor?: string;
}

/** How the caller observes and controls one run. */
export interface SandboxRunOptions {
  /** Aborting it stops the run promptly; the result then has reason "cancelled". */
  readonly signal?: AbortSignal;
  /** Called with each log line as soon as the runner sees it. */
  readonly onLog?: (line: LogLine) => void;
}

/**
 * Why a run ended: "exited" (the command finished, see exitCode), "timeout",
 * "cancelled", or "failed" (the environment could not run it, e.g. an image
 * pull error or a workflow in phase Error).
 */
export type RunReason = "exited" | "timeout" | "cancelled" | "failed";

/** How a run ended. */
export interface SandboxRunResult {
  /**
   * The command's real exit code where the environment reports one; when it
   * cannot (cancelled, timed out, environment failure) a conventional
   * non-zero code: 124 for timeout, 130 for cancel, 1 otherwise.
   */
  readonly exitCode: number;
  readonly reason: RunReason;
  /** Human-readable detail for a reason other than "exited", or "". */
  readonly message: string;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  /** The name of the object the run used (Pod, workflow, container, provider job id). */
  readonly runName: string;
  /** True when this dispatch found a run already started for the same identity. */
  readonly reused: boolean;
}

/** Runs commands in one execution environment. */
export interface SandboxRunner {
  /** The environment's kind, e.g. "kubernetes". */
  readonly kind: string;
  /**
   * Runs one command to completion. Rejects only when the run could not be
   * dispatched or observed (bad request, unreachable API); a command that
   * fails, times out or is cancelled resolves with the matching reason.
   */
  run(request: SandboxRunRequest, options?: SandboxRunOptions): Promise<SandboxRunResult>;
}

/** Exit code reported for a run stopped by its timeout (as coreutils `timeout` does). */
export const TIMEOUT_EXIT_CODE = 124;
/** Exit code reported for a cancelled run (128 + SIGINT, as shells do). */
export const CANCELLED_EXIT_CODE = 130;

/**
 * Refuses a request a runner of `runnerKind` cannot run, before it calls anything: an empty command
 * always, a missing image where the runner starts containers. One check, so every runner says it alike.
 */
export function checkRunRequest(
  runnerKind: string,
  request: Pick<SandboxRunRequest, "command" | "image">,
  needs: { image: boolean },
): void {
  if (needs.image && !request.image) {
    throw new InvalidArgumentError(`${runnerKind} runner: request.image is required; name the container image to run`);
  }
  if (request.command.length === 0 || request.command[0] === "") {
    throw new InvalidArgumentError(`${runnerKind} runner: command is empty; give at least the program to run`);
  }
}
