/**
 * `local`: runs the command as a subprocess of the host (execa). The
 * embedded default. The command runs in its own process group so that a
 * cancel or timeout stops everything it started, not just its first process.
 * A run ends when its main process ends, as a local provider job does: what
 * it left in its group is stopped (SIGTERM, SIGKILL after the grace period)
 * and its output read for a bounded time.
 */
import {
  DEFAULT_OUTPUT_DRAIN_MS,
  drainStreams,
  LineSplitter,
  stopGroupLeftovers,
  terminateProcessGroup,
} from "@flotilla/process";
import { secretSourceVariables } from "@flotilla/protocol";
import type { execa as execaFunction } from "execa";
import { runKey } from "./job-names.js";
import { RunClock } from "./run-clock.js";
import {
  checkRunRequest,
  type SandboxRunner,
  type SandboxRunOptions,
  type SandboxRunRequest,
  type SandboxRunResult,
} from "./sandbox-runner.js";
import { resolveSecretEnv, type SecretResolver } from "./secret-ref.js";

/** Options of the local runner. */
export interface LocalRunnerOptions {
  /** Resolves `secret://` references into the subprocess's environment. */
  readonly resolveSecret?: SecretResolver;
  /** How long a stopped process group gets after SIGTERM before SIGKILL. Default 2000 ms. */
  readonly killGraceMs?: number;
  /** Most milliseconds a run's output is still read once its process group is gone. Default 2000 ms. */
  readonly outputDrainMs?: number;
  /** Whether the host's own environment is inherited. Default false: only PATH and HOME. */
  readonly inheritEnv?: boolean;
}

/** Runs commands as local subprocesses. */
export class LocalRunner implements SandboxRunner {
  readonly kind = "local";
  readonly #options: LocalRunnerOptions;
  /** Runs in flight by run key: a re-dispatch of the same identity joins the running one. */
  readonly #inFlight = new Map<string, Promise<SandboxRunResult>>();

  constructor(options: LocalRunnerOptions = {}) {
    this.#options = options;
  }

  run(request: SandboxRunRequest, options: SandboxRunOptions = {}): Promise<SandboxRunResult> {
    const key = runKey(request.jobIdentity, request.idempotencyKey);
    const existing = this.#inFlight.get(key);
    if (existing) return existing.then((result) => ({ ...result, reused: true }));
    const started = this.#run(key, request, options).finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, started);
    return started;
  }

  async #run(key: string, request: SandboxRunRequest, options: SandboxRunOptions): Promise<SandboxRunResult> {
    checkRunRequest(this.kind, request, { image: false });
    const [file, ...args] = request.command as [string, ...string[]];
    const secrets = await resolveSecretEnv(this.kind, request.secretEnv, this.#options.resolveSecret);
    const baseEnv = this.#options.inheritEnv
      ? withoutSecretSources(process.env, request.secretEnv)
      : { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/" };
    const clock = new RunClock(options.signal, request.timeoutMs);
    const onLog = options.onLog ?? (() => {});
    try {
      const subprocess = (await loadExeca())(file, args, {
        env: { ...baseEnv, ...request.env, ...secrets },
        extendEnv: false,
        cwd: request.workingDir,
        detached: true,
        reject: false,
        buffer: false,
        stdin: "ignore",
        encoding: "utf8",
      });
      const pid = subprocess.pid;
      const graceMs = this.#options.killGraceMs ?? 2000;
      // The "exit" event, not execa's result: that waits for the output pipes to close, which a background
      // child holding them can put off for as long as it runs.
      const mainExited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        subprocess.nodeChildProcess.once("exit", (code, signal) => resolve({ code, signal })),
      );
      let groupStopping: Promise<void> | undefined;
      const stopGroup = (): void => {
        if (pid === undefined) return;
        groupStopping ??= terminateProcessGroup(pid, { leaderExited: mainExited, graceMs });
      };
      clock.signal.addEventListener("abort", stopGroup, { once: true });
      const out = new LineSplitter((text) => onLog({ stream: "stdout", text }));
      const err = new LineSplitter((text) => onLog({ stream: "stderr", text }));
      subprocess.stdout?.on("data", (chunk: Buffer) => out.push(chunk));
      subprocess.stderr?.on("data", (chunk: Buffer) => err.push(chunk));
      // Node assigns the pid synchronously when the spawn succeeded; without one, execa's result says why.
      const outcome = pid === undefined ? await subprocess : await mainExited;
      clock.signal.removeEventListener("abort", stopGroup);
      if (pid !== undefined) {
        // A run ends when its main process ends, as a local provider job does: what it left in its group is
        // stopped (a cancel already stopping the group does that), and its output read for a bounded time.
        await (groupStopping ?? stopGroupLeftovers(pid, { graceMs }));
        await drainStreams(
          [subprocess.stdout, subprocess.stderr],
          this.#options.outputDrainMs ?? DEFAULT_OUTPUT_DRAIN_MS,
        );
      }
      out.flush();
      err.flush();
      const finishedAt = new Date();
      const common = { startedAt: clock.startedAt, finishedAt, runName: `local:${key}`, reused: false };
      if (clock.stopReason) return { ...common, ...clock.stoppedOutcome() };
      if ("failed" in outcome) {
        return {
          ...common,
          exitCode: 1,
          reason: "failed",
          message: outcome.shortMessage ?? "the process could not run",
        };
      }
      if (outcome.code === null) {
        return { ...common, exitCode: 1, reason: "failed", message: `the process was killed by ${outcome.signal}` };
      }
      return { ...common, exitCode: outcome.code, reason: "exited", message: "" };
    } finally {
      clock.dispose();
    }
  }
}

/**
 * The host's environment without the variables this run's `secret://env/` references read: a secret
 * reaches the run under the name it asked for, not its source under the source's name too (`env` can
 * still set it, when the run asks for it by name).
 */
function withoutSecretSources(
  environment: NodeJS.ProcessEnv,
  secretEnv: Readonly<Record<string, string>> = {},
): NodeJS.ProcessEnv {
  const inherited = { ...environment };
  for (const name of secretSourceVariables(secretEnv)) delete inherited[name];
  return inherited;
}

/** execa, loaded on the first local run: its hundred-odd modules are not paid for by every user of this package. */
let execaLoading: Promise<typeof execaFunction> | undefined;
function loadExeca(): Promise<typeof execaFunction> {
  execaLoading ??= import("execa").then((module) => module.execa);
  return execaLoading;
}
