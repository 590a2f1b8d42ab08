/**
 * `flotilla run [options] -- COMMAND...`: runs one job through a provider
 * plugin (or, with `--env NAME`, in an execution environment of
 * flotilla.yaml), streams its stdout and stderr as they happen, and exits
 * with the job's own exit code. Ctrl-C cancels the job and waits for it to stop; a
 * second Ctrl-C stops the plugin (and with it the job) at once.
 */

import { setTimeout as sleep } from "node:timers/promises";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import type { RunnerClient } from "@flotilla/host";
import { type JobHandle, JobState, type JobStatus, LogStream, UnavailableError } from "@flotilla/protocol";
import { CliError } from "../cli-error.js";
import { CliHost } from "../cli-host.js";
import { parseDuration } from "../config/duration.js";
import { defaultProviderOf } from "../config/flotilla-config.js";
import { loadConfig } from "../config/load-config.js";
import { EXIT_CANCELLED, exitCodeForStatus, stateName } from "../exit-status.js";
import { formatJobHandle } from "../job-handle.js";
import { checkSecretRefs, envNamesReferenced } from "../key-value.js";
import type { Progress } from "../progress.js";
import { pluginConfigFor } from "../provider-plugins.js";

/** Options of `flotilla run`. */
export interface RunOptions {
  /** Provider name; default from flotilla.yaml, else local. */
  provider?: string;
  /** Execution environment of flotilla.yaml to run in; default (and `provider-ephemeral`): the provider's runner. */
  env?: string;
  /** Plain environment variables. */
  envVar?: Record<string, string>;
  /** Secret environment variables as references. */
  secret?: Record<string, string>;
  /** Job timeout as a duration. */
  timeout?: string;
  /** Container image (ignored by the local provider). */
  image?: string;
  /** Job name. */
  name?: string;
  /** flotilla.yaml path. */
  config?: string;
  /** Show every plugin log record. */
  verbose?: boolean;
}

/** Where the command writes; the process streams in production, buffers in tests. */
export interface RunIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  progress: Progress;
  /** Receives SIGINT/SIGTERM; default `process`. */
  signals?: Pick<NodeJS.Process, "on" | "off">;
}

/**
 * The exec environment name meaning "the provider's own runner" (the exec
 * factory's PROVIDER_EPHEMERAL; run.test.ts keeps the two equal). Not
 * imported: the factory module loads the Kubernetes and Docker clients,
 * which a plain `flotilla run` must not pay for.
 */
export const PROVIDER_EPHEMERAL_ENV = "provider-ephemeral";

const TERMINAL = new Set([JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED, JobState.UNKNOWN]);

/** Runs `command` as a job and returns the exit code the CLI should exit with. */
export async function runCommand(command: string[], options: RunOptions, io: RunIo): Promise<number> {
  if (command.length === 0) {
    throw new CliError("flotilla run: no command given; put it after --, e.g. `flotilla run -- echo hello`");
  }
  const secrets = options.secret ?? {};
  checkSecretRefs(secrets);
  const timeoutMs = options.timeout === undefined ? undefined : parseDuration(options.timeout, "--timeout");
  const { config } = loadConfig(options.config);
  const providerName = options.provider ?? defaultProviderOf(config);
  if (options.env !== undefined && options.env !== PROVIDER_EPHEMERAL_ENV) {
    // Loaded only here: the exec environments pull in the Kubernetes and Docker clients.
    const { runInEnvironment } = await import("./run-in-environment.js");
    return runInEnvironment(
      {
        envName: options.env,
        config,
        providerName,
        command,
        env: options.envVar ?? {},
        secretEnv: secrets,
        timeoutMs,
        image: options.image,
        name: options.name ?? "flotilla-run",
        verbose: options.verbose ?? false,
      },
      io,
    );
  }
  const pluginConfig = pluginConfigFor(providerName, config, { inheritEnv: envNamesReferenced(secrets) });

  const signals = io.signals ?? process;
  const cli = new CliHost({ verbose: options.verbose ?? false, stderr: io.stderr });
  let interruptedBy: NodeJS.Signals | undefined;
  let onInterrupt: (() => void) | undefined;
  let cleanupSignals = () => {};
  const forceStop = new Promise<number>((resolve) => {
    const handler = (signal: NodeJS.Signals) => {
      if (interruptedBy) {
        io.stderr.write(`flotilla: ${signal} again: stopping the provider plugin and the job now\n`);
        // Settle first: stopping the plugin fails the calls still in flight, and those must not win the race.
        // The `finally` below stops the plugin, which kills its jobs as it exits.
        resolve(EXIT_CANCELLED);
        return;
      }
      interruptedBy = signal;
      onInterrupt?.();
    };
    signals.on("SIGINT", handler);
    signals.on("SIGTERM", handler);
    cleanupSignals = () => {
      signals.off("SIGINT", handler);
      signals.off("SIGTERM", handler);
    };
  });

  const work = async (): Promise<number> => {
    io.progress.update(`starting provider plugin ${providerName}`);
    const provider = await cli.startProvider(pluginConfig);
    if (interruptedBy) return EXIT_CANCELLED;
    const runner = provider.runner();
    if (!runner) {
      const services = provider.registry.services;
      throw new CliError(
        `provider "${providerName}" does not run jobs: its plugin does not advertise IaCProviderRunnerService (it advertises ${services.length ? services.join(", ") : "no optional services"})`,
      );
    }
    io.progress.update(`submitting job to ${providerName}`);
    const spec = {
      name: options.name ?? "flotilla-run",
      image: options.image ?? "",
      command,
      env: options.envVar ?? {},
      secretEnv: secrets,
      ...(timeoutMs === undefined ? {} : { timeout: durationFromMs(timeoutMs) }),
    };
    const { handle } = await runner.runJob({ spec });
    if (!handle) throw new CliError(`provider "${providerName}" accepted the job but returned no handle`);
    const handleText = formatJobHandle({ provider: providerName, jobId: handle.jobId });
    io.progress.update(`job ${handleText} submitted`);
    if (options.verbose) io.stderr.write(`flotilla: job ${handleText} started\n`);
    const cancel = () => {
      io.progress.clear();
      io.stderr.write(
        `flotilla: ${interruptedBy}: cancelling job ${handleText} (press Ctrl-C again to stop at once)\n`,
      );
      runner.cancelJob({ handle, reason: `interrupted (${interruptedBy}) in flotilla run` }).catch((err: Error) => {
        io.stderr.write(`flotilla: could not cancel job ${handleText}: ${err.message}\n`);
      });
    };
    onInterrupt = cancel;
    if (interruptedBy) cancel();
    const stopWatching = watchState(runner, handle, handleText, io.progress);
    let status: JobStatus;
    try {
      await streamLogs(runner, handle, io, stopWatching);
      status = await waitForTerminal(runner, handle, handleText);
    } catch (err) {
      // The CLI is giving up on the job: stop it rather than leave it running unwatched on the provider
      // (stopping the plugin ends local jobs, but not an ECS task or a Cloud Run execution).
      if (!interruptedBy) {
        await runner.cancelJob({ handle, reason: "flotilla run stopped following the job" }, { timeoutMs: 5_000 }).then(
          () => io.stderr.write(`flotilla: cancelled job ${handleText}, which could no longer be followed\n`),
          (cancelErr: Error) =>
            io.stderr.write(
              `flotilla: job ${handleText} could not be followed nor cancelled (${cancelErr.message}); check it with \`flotilla jobs status ${handleText}\`\n`,
            ),
        );
      }
      throw err;
    } finally {
      stopWatching();
    }
    const exitCode = exitCodeForStatus(status);
    io.progress.clear();
    if (exitCode !== 0 || options.verbose) {
      const code = status.exitCode === undefined ? "no exit code" : `exit code ${status.exitCode}`;
      io.stderr.write(
        `flotilla: job ${handleText} ${stateName(status.state)} (${code})${status.reason ? `: ${status.reason}` : ""}\n`,
      );
    }
    return interruptedBy && status.state === JobState.CANCELLED ? EXIT_CANCELLED : exitCode;
  };

  const working = work();
  // After a forced stop the abandoned work fails (its plugin is gone); that must not surface as an unhandled rejection.
  working.catch(() => {});
  try {
    return await Promise.race([working, forceStop]);
  } finally {
    cleanupSignals();
    io.progress.clear();
    await cli.stop();
  }
}

/**
 * Shows pending → running on the progress line until the first log line
 * arrives. Only polls when progress is visible; returns a stop function.
 */
function watchState(runner: RunnerClient, handle: JobHandle, handleText: string, progress: Progress): () => void {
  let stopped = false;
  void (async () => {
    while (!stopped) {
      try {
        const { status } = await runner.jobStatus({ handle });
        if (stopped) return;
        if (status) progress.update(`job ${handleText} ${stateName(status.state).toLowerCase()}`);
        if (!status || TERMINAL.has(status.state)) return;
      } catch {
        return;
      }
      await sleep(500);
    }
  })();
  return () => {
    stopped = true;
  };
}

/**
 * Follows the job's log to its end, resuming from the last cursor when the
 * stream breaks on a retriable error (a few times, then it gives up).
 */
async function streamLogs(runner: RunnerClient, handle: JobHandle, io: RunIo, onFirstLine: () => void): Promise<void> {
  let cursor = "";
  let seenAny = false;
  for (let attempt = 0; ; attempt++) {
    try {
      for await (const response of runner.jobLogs({ handle, follow: true, cursor })) {
        if (response.lines.length === 0) continue;
        if (!seenAny) {
          seenAny = true;
          onFirstLine();
          io.progress.clear();
        }
        for (const line of response.lines) {
          const out = line.stream === LogStream.STDOUT ? io.stdout : io.stderr;
          // SYSTEM lines (from the provider about the job) go to stderr with the job's own stderr.
          out.write(`${line.text}\n`);
          cursor = line.cursor;
        }
      }
      return;
    } catch (err) {
      if (!(err instanceof UnavailableError) || attempt >= 3) throw err;
      await sleep(250 * (attempt + 1));
    }
  }
}

/** How long a job may stay non-terminal after its log ended before the CLI gives up on it. */
const TERMINAL_AFTER_LOG_END_MS = 120_000;

/** The job's status once terminal (the log ends when the job ends, but a provider may lag). */
async function waitForTerminal(runner: RunnerClient, handle: JobHandle, handleText: string): Promise<JobStatus> {
  const deadline = Date.now() + TERMINAL_AFTER_LOG_END_MS;
  for (;;) {
    const { status } = await runner.jobStatus({ handle });
    if (!status) throw new CliError("the provider returned a JobStatus response without a status");
    if (TERMINAL.has(status.state)) return status;
    if (Date.now() > deadline) {
      throw new CliError(
        `job ${handleText}: its log ended but the provider still reports it ${stateName(status.state)} after ${TERMINAL_AFTER_LOG_END_MS / 1000} s; check it with \`flotilla jobs status ${handleText}\``,
      );
    }
    await sleep(200);
  }
}
