/**
 * `flotilla run [options] -- COMMAND...`: runs one job through a provider
 * plugin (or, with `--env NAME`, in an execution environment of
 * flotilla.yaml), streams its stdout and stderr as they happen, and exits
 * with the job's own exit code. Ctrl-C (or SIGTERM) cancels the job and waits for it to stop;
 * a second Ctrl-C stops the plugin (and with it the job) at once. A second SIGTERM changes nothing.
 *
 * A provider job is recorded in the job journal before it is dispatched, and followed through it
 * (@flotilla/jobs), so `flotilla jobs` lists it and can follow it from another terminal. With
 * `--detach` the command prints the job's handle once the provider has it and returns; the job runs
 * on (the built-in local provider runs it as a durable job, apart from any plugin process).
 */

import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { PROVIDER_EPHEMERAL, type ProviderRunResult } from "@flotilla/exec";
import { type FollowEnd, formatJobRef } from "@flotilla/jobs";
import { parseDuration, secretSourceVariables } from "@flotilla/protocol";
import { CliError } from "../cli-error.js";
import { CliHost } from "../cli-host.js";
import { windDownOnClosedPipe } from "../closed-pipe.js";
import { defaultProviderOf } from "../config/flotilla-config.js";
import { loadConfig } from "../config/load-config.js";
import { EXIT_CANCELLED, EXIT_CLOSED_PIPE, stateName } from "../exit-status.js";
import { openCliJobs } from "../job-journal.js";
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
  /** Print the job's handle once the provider has it and return, leaving the job running. */
  detach?: boolean;
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
  const detach = options.detach ?? false;
  const grants = { inheritEnv: secretSourceVariables(secrets), durableLocalJobs: detach };
  // An unknown provider is refused before the journal is opened.
  pluginConfigFor(providerName, config, grants);

  const signals = io.signals ?? process;
  const cli = new CliHost({ verbose: options.verbose ?? false, stderr: io.stderr });
  const jobs = await openCliJobs(config, cli, {
    grants,
    runner: { pollIntervalMs: RUN_POLL_INTERVAL_MS },
  });
  let interruptedBy: NodeJS.Signals | undefined;
  let readerGone = false;
  let handleText: string | undefined;
  /** The job's journal id, once it is recorded. */
  let jobId: string | undefined;
  const sayCancelling = () => {
    io.progress.clear();
    io.stderr.write(`flotilla: ${interruptedBy}: cancelling job ${handleText} (press Ctrl-C again to stop at once)\n`);
  };
  let cleanupSignals = () => {};
  let windingDown = false;
  const forceStop = new Promise<number>((resolve) => {
    const handler = (signal: NodeJS.Signals) => {
      // The job is over and the CLI is closing: a signal now (the second of a `timeout`'s pair, say) has
      // nothing left to stop, and must not kill the CLI before it has stopped its plugin.
      if (windingDown) return;
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
      // The follower cancels the job (once RunJob has answered) and keeps following it until it stops.
      if (handleText) sayCancelling();
      if (jobId) void jobs.service.tracker.cancel(jobId, `flotilla run interrupted (${signal})`);
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
    // Started before anything is recorded: a plugin that cannot start leaves no job in the journal.
    await jobs.runnerOf(providerName);
    if (interruptedBy) return EXIT_CANCELLED;
    io.progress.update(`submitting job to ${providerName}`);
    let seenAny = false;
    const tracked = await jobs.service.run(
      {
        provider: providerName,
        spec: {
          name: options.name ?? "flotilla-run",
          image: options.image ?? "",
          command,
          env: options.envVar ?? {},
          secretEnv: secrets,
          ...(timeoutMs === undefined ? {} : { timeout: durationFromMs(timeoutMs) }),
        },
      },
      {
        onState: (state) => {
          if (!seenAny && !interruptedBy && handleText) io.progress.update(`job ${handleText} ${state}`);
        },
        onLog: (line) => {
          if (detach) return undefined;
          if (!seenAny) {
            seenAny = true;
            io.progress.clear();
          }
          // SYSTEM lines (the provider's and the runner's remarks about the job) go to stderr with the job's own.
          // A piece of a line too long to hold (line.continues) is written as it comes, without a newline: the
          // line reaches stdout whole. A full stream pushes back: the follower waits, and so does the plugin.
          return writeLine(line.stream === "stdout" ? io.stdout : io.stderr, line.text, line.continues === true);
        },
      },
    );
    jobId = tracked.id;
    if (interruptedBy) void jobs.service.tracker.cancel(tracked.id, `flotilla run interrupted (${interruptedBy})`);
    const handle = await tracked.handle.catch(() => undefined);
    if (handle) {
      handleText = formatJobRef({ provider: providerName, jobId: handle.jobId });
      io.progress.update(`job ${handleText} submitted`);
      if (options.verbose) io.stderr.write(`flotilla: job ${handleText} started\n`);
      if (interruptedBy) sayCancelling();
      if (detach) {
        io.progress.clear();
        io.stdout.write(`${handleText}\n`);
        io.stderr.write(
          `flotilla: job ${handleText} runs on; follow it with \`flotilla jobs logs -f ${handleText}\`, stop it with \`flotilla jobs cancel ${handleText}\`\n`,
        );
        return 0;
      }
    }
    const end: FollowEnd = await tracked.done;
    const result: ProviderRunResult | undefined = end.result;
    if (!result) {
      // The follower has already cancelled the job it could no longer follow (or said why it could not).
      if (handleText && !interruptedBy) {
        io.progress.clear();
        io.stderr.write(
          `flotilla: stopped following job ${handleText}; check it with \`flotilla jobs status ${handleText}\`\n`,
        );
      }
      throw end.error ?? new CliError(`job ${handleText ?? tracked.id}: following it stopped before it ended`);
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
    windingDown = true;
    io.progress.clear();
    // Detaching lets the job run on and lets go of it in the journal. After a forced stop the follower may
    // still be waiting on the plugin, which stopping the host fails: it is not waited for past that.
    const closing = jobs.close();
    closing.catch(() => {});
    if (detach) await closing;
    await cli.stop();
    await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    cleanupSignals();
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
