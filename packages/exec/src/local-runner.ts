/**
 * `local`: runs the command as a subprocess of the host (execa). The
 * embedded default. The command runs in its own process group so that a
 * cancel or timeout stops everything it started, not just its first process.
 */
import { LineSplitter, terminateProcessGroup } from "@flotilla/process";
import { execa } from "execa";
import { runKey } from "./job-names.js";
import { RunClock } from "./run-clock.js";
import type { SandboxRunner, SandboxRunOptions, SandboxRunRequest, SandboxRunResult } from "./sandbox-runner.js";
import { resolveSecretEnv, type SecretResolver } from "./secret-ref.js";

/** Options of the local runner. */
export interface LocalRunnerOptions {
  /** Resolves `secret://` references into the subprocess's environment. */
  readonly resolveSecret?: SecretResolver;
  /** How long a stopped process group gets after SIGTERM before SIGKILL. Default 2000 ms. */
  readonly killGraceMs?: number;
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
    const [file, ...args] = request.command;
    if (!file) throw new TypeError("local runner: command is empty; give at least the program to run");
    const secrets = await resolveSecretEnv(this.kind, request.secretEnv, this.#options.resolveSecret);
    const baseEnv = this.#options.inheritEnv
      ? process.env
      : { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/" };
    const clock = new RunClock(options.signal, request.timeoutMs);
    const onLog = options.onLog ?? (() => {});
    try {
      const subprocess = execa(file, args, {
        env: { ...baseEnv, ...request.env, ...secrets },
        extendEnv: false,
        cwd: request.workingDir,
        detached: true,
        reject: false,
        buffer: false,
        stdin: "ignore",
        encoding: "utf8",
      });
      const stopGroup = (): void => {
        if (subprocess.pid === undefined) return;
        void terminateProcessGroup(subprocess.pid, {
          leaderExited: subprocess,
          graceMs: this.#options.killGraceMs ?? 2000,
        });
      };
      clock.signal.addEventListener("abort", stopGroup, { once: true });
      const out = new LineSplitter((text) => onLog({ stream: "stdout", text }));
      const err = new LineSplitter((text) => onLog({ stream: "stderr", text }));
      subprocess.stdout?.on("data", (chunk: Buffer) => out.push(chunk));
      subprocess.stderr?.on("data", (chunk: Buffer) => err.push(chunk));
      const outcome = await subprocess;
      clock.signal.removeEventListener("abort", stopGroup);
      out.flush();
      err.flush();
      const finishedAt = new Date();
      const common = { startedAt: clock.startedAt, finishedAt, runName: `local:${key}`, reused: false };
      if (clock.stopReason) return { ...common, ...clock.stoppedOutcome() };
      if (outcome.failed && outcome.exitCode === undefined) {
        return {
          ...common,
          exitCode: 1,
          reason: "failed",
          message: outcome.shortMessage ?? "the process could not run",
        };
      }
      return { ...common, exitCode: outcome.exitCode ?? 1, reason: "exited", message: "" };
    } finally {
      clock.dispose();
    }
  }
}
