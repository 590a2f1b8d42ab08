/**
 * `flotilla run [options] -- COMMAND...`: runs one job through a provider
 * plugin (or, with `--env NAME`, in an execution environment of
 * flotilla.yaml), streams its stdout and stderr as they happen, and exits
 * with the job's own exit code. Ctrl-C (or SIGTERM) cancels the job and waits for it to stop;
 * a second Ctrl-C stops the plugin (and with it the job) at once. A second SIGTERM changes nothing.
 */

import { randomUUID } from "node:crypto";
import { PROVIDER_EPHEMERAL, ProviderRunner, type ProviderRunResult } from "@flotilla/exec";
import { type JobHandle, parseDuration, secretSourceVariables } from "@flotilla/protocol";
import { CliError } from "../cli-error.js";
import { CliHost } from "../cli-host.js";
import { windDownOnClosedPipe } from "../closed-pipe.js";
import { defaultProviderOf } from "../config/flotilla-config.js";
import { loadConfig } from "../config/load-config.js";
import { EXIT_CANCELLED, EXIT_CLOSED_PIPE, stateName } from "../exit-status.js";
import { formatJobHandle } from "../job-handle.js";
import { checkSecretRefs } from "../key-value.js";
import type { Progress } from "../progress.js";
import { pluginConfigFor } from "../provider-plugins.js";
import { writeLine } from "../write-line.js";

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

/** How often `flotilla run` polls the job's status (progress line, end of the job). */
export const RUN_POLL_INTERVAL_MS = 1000;

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
  if (options.env !== undefined && options.env !== PROVIDER_EPHEMERAL) {
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
  const pluginConfig = pluginConfigFor(providerName, config, { inheritEnv: secretSourceVariables(secrets) });

  const signals = io.signals ?? process;
  const cli = new CliHost({ verbose: options.verbose ?? false, stderr: io.stderr });
  const abort = new AbortController();
  let interruptedBy: NodeJS.Signals | undefined;
  let readerGone = false;
  let handleText: string | undefined;
  const sayCancelling = () => {
    io.progress.clear();
    io.stderr.write(`flotilla: ${interruptedBy}: cancelling job ${handleText} (press Ctrl-C again to stop at once)\n`);
  };
  let cleanupSignals = () => {};
  const forceStop = new Promise<number>((resolve) => {
    const handler = (signal: NodeJS.Signals) => {
      // Only a person presses Ctrl-C twice. A repeated SIGTERM is one request delivered twice (by
      // `timeout` to the process group and to its child, or by the ancestor watch): it must not turn a
      // graceful cancel into a hard stop. Supervisors that want a hard stop send SIGKILL.
      if (interruptedBy && signal !== "SIGINT") return;
      if (interruptedBy) {
        io.stderr.write(`flotilla: ${signal} again: stopping the provider plugin and the job now\n`);
        // Settle first: stopping the plugin fails the calls still in flight, and those must not win the race.
        // The `finally` below stops the plugin, which kills its jobs as it exits.
        resolve(EXIT_CANCELLED);
        return;
      }
      interruptedBy = signal;
      // The runner cancels the job (once RunJob has answered) and keeps following it until it stops.
      if (handleText) sayCancelling();
      abort.abort();
    };
    signals.on("SIGINT", handler);
    signals.on("SIGTERM", handler);
    // Whoever read the job's output went away (`flotilla run … | head -1`): cancel the job as for SIGTERM,
    // rather than leave a cloud job running unwatched, and end with 141 once it has stopped.
    const stopWindingDown = windDownOnClosedPipe(() => {
      readerGone = true;
      handler("SIGPIPE");
    });
    cleanupSignals = () => {
      signals.off("SIGINT", handler);
      signals.off("SIGTERM", handler);
      stopWindingDown();
    };
  });

  const work = async (): Promise<number> => {
    io.progress.update(`starting provider plugin ${providerName}`);
    const provider = await cli.startProvider(pluginConfig);
    if (interruptedBy) return EXIT_CANCELLED;
    const client = provider.runner();
    if (!client) {
      const services = provider.registry.services;
      throw new CliError(
        `provider "${providerName}" does not run jobs: its plugin does not advertise IaCProviderRunnerService (it advertises ${services.length ? services.join(", ") : "no optional services"})`,
      );
    }
    io.progress.update(`submitting job to ${providerName}`);
    const runner = new ProviderRunner({ providerName, runner: client, pollIntervalMs: RUN_POLL_INTERVAL_MS });
    const name = options.name ?? "flotilla-run";
    let seenAny = false;
    let result: ProviderRunResult;
    try {
      result = await runner.run(
        {
          jobName: name,
          image: options.image ?? "",
          command,
          env: options.envVar ?? {},
          secretEnv: secrets,
          ...(timeoutMs === undefined ? {} : { timeoutMs }),
          // A fresh identity per invocation: its idempotency key makes a retried RunJob safe, never a second job.
          jobIdentity: { jobId: `${name}/${randomUUID()}` },
        },
        {
          signal: abort.signal,
          onJobStarted: (handle: JobHandle) => {
            handleText = formatJobHandle({ provider: providerName, jobId: handle.jobId });
            io.progress.update(`job ${handleText} submitted`);
            if (options.verbose) io.stderr.write(`flotilla: job ${handleText} started\n`);
            if (interruptedBy) sayCancelling();
          },
          onStatus: (status) => {
            if (!seenAny && !interruptedBy)
              io.progress.update(`job ${handleText} ${stateName(status.state).toLowerCase()}`);
          },
          onLog: (line) => {
            if (!seenAny) {
              seenAny = true;
              io.progress.clear();
            }
            // SYSTEM lines (the provider's and the runner's remarks about the job) go to stderr with the job's own.
            // A piece of a line too long to hold (line.continues) is written as it comes, without a newline: the
            // line reaches stdout whole. A full stream pushes back: the runner waits, and so does the plugin.
            return writeLine(line.stream === "stdout" ? io.stdout : io.stderr, line.text, line.continues === true);
          },
        },
      );
    } catch (err) {
      // The runner has already cancelled the job it could no longer follow (or said why it could not).
      if (handleText && !interruptedBy) {
        io.progress.clear();
        io.stderr.write(
          `flotilla: stopped following job ${handleText}; check it with \`flotilla jobs status ${handleText}\`\n`,
        );
      }
      throw err;
    }
    io.progress.clear();
    if (result.exitCode !== 0 || options.verbose)
      io.stderr.write(`flotilla: ${describeEnd(result, handleText, options.timeout)}\n`);
    return result.exitCode;
  };

  const working = work();
  // After a forced stop the abandoned work fails (its plugin is gone); that must not surface as an unhandled rejection.
  working.catch(() => {});
  try {
    const exitCode = await Promise.race([working, forceStop]);
    return readerGone ? EXIT_CLOSED_PIPE : exitCode;
  } finally {
    cleanupSignals();
    io.progress.clear();
    await cli.stop();
  }
}

/** The last line `flotilla run` prints about a job that did not succeed (or, with --verbose, any job). */
function describeEnd(result: ProviderRunResult, handleText: string | undefined, timeout: string | undefined): string {
  const job = handleText ? `job ${handleText}` : "the job";
  const detail = result.message ? `: ${result.message}` : "";
  if (result.reason === "timeout") {
    return `${job} timed out after ${timeout} and was stopped (exit code ${result.exitCode})${result.status ? `; the provider reports it ${stateName(result.status.state)}` : ""}`;
  }
  const state = result.status ? stateName(result.status.state) : result.reason.toUpperCase();
  const own = result.status?.exitCode;
  const code = own === undefined ? "no exit code" : `exit code ${own}`;
  const exit = own === undefined || own === result.exitCode ? "" : `; exiting with ${result.exitCode}`;
  return `${job} ${state} (${code}${exit})${detail}`;
}
