/**
 * `flotilla run --env NAME`: runs the command in one of the execution
 * environments of flotilla.yaml (`exec_environments`: local, local-docker,
 * kubernetes, ephemeral/Argo, named provider runners) through the exec
 * factory, streaming its lines and exiting with its exit code. Ctrl-C
 * aborts the run, which stops it where it runs.
 */
import { randomUUID } from "node:crypto";
import { createExecEnvironments, providerDirectoryOf } from "@flotilla/exec";
import { CliError } from "../cli-error.js";
import { CliHost } from "../cli-host.js";
import type { FlotillaConfig } from "../config/flotilla-config.js";
import { EXIT_CANCELLED } from "../exit-status.js";
import type { Progress } from "../progress.js";
import { pluginConfigFor } from "../provider-plugins.js";
import { localSecretResolver } from "../secret-resolver.js";

/** What a run in an execution environment needs. */
export interface EnvironmentRun {
  envName: string;
  config: FlotillaConfig;
  providerName: string;
  command: string[];
  env: Record<string, string>;
  secretEnv: Record<string, string>;
  timeoutMs: number | undefined;
  image: string | undefined;
  name: string;
  verbose: boolean;
}

/** Runs `run.command` in environment `run.envName`; returns the exit code. */
export async function runInEnvironment(
  run: EnvironmentRun,
  io: {
    stdout: NodeJS.WritableStream;
    stderr: NodeJS.WritableStream;
    progress: Progress;
    signals?: Pick<NodeJS.Process, "on" | "off">;
  },
): Promise<number> {
  const cli = new CliHost({ verbose: run.verbose, stderr: io.stderr });
  const abort = new AbortController();
  let interruptedBy: NodeJS.Signals | undefined;
  const signals = io.signals ?? process;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interruptedBy) return;
    interruptedBy = signal;
    io.progress.clear();
    io.stderr.write(`flotilla: ${signal}: stopping the run in ${run.envName}\n`);
    abort.abort();
  };
  signals.on("SIGINT", onSignal);
  signals.on("SIGTERM", onSignal);
  try {
    const entry = run.config.exec_environments?.[run.envName] as { kind?: string; provider?: unknown } | undefined;
    // A named provider runner needs its provider plugin running before the factory can hand it out.
    if (entry?.kind === "provider" && typeof entry.provider === "string") {
      io.progress.update(`starting provider plugin ${entry.provider}`);
      await cli.startProvider(pluginConfigFor(entry.provider, run.config));
    }
    const environments = await createExecEnvironments(run.config.exec_environments ?? {}, {
      providers: providerDirectoryOf(cli.host),
      defaultProvider: run.providerName,
      resolveSecret: localSecretResolver(run.config),
    });
    if (!environments.names().includes(run.envName)) {
      throw new CliError(
        `--env ${JSON.stringify(run.envName)}: no such execution environment; known: ${environments.names().join(", ")} (add it under exec_environments in flotilla.yaml)`,
      );
    }
    const runner = environments.runner(run.envName);
    io.progress.update(`running in ${run.envName} (${runner.kind})`);
    let seenAny = false;
    const result = await runner.run(
      {
        command: run.command,
        env: run.env,
        secretEnv: run.secretEnv,
        ...(run.image ? { image: run.image } : {}),
        ...(run.timeoutMs === undefined ? {} : { timeoutMs: run.timeoutMs }),
        jobIdentity: { jobId: `${run.name}/${randomUUID()}` },
      },
      {
        signal: abort.signal,
        onLog: (line) => {
          if (!seenAny) {
            seenAny = true;
            io.progress.clear();
          }
          (line.stream === "stdout" ? io.stdout : io.stderr).write(`${line.text}\n`);
        },
      },
    );
    io.progress.clear();
    if (result.reason !== "exited" || result.exitCode !== 0 || run.verbose) {
      io.stderr.write(
        `flotilla: run in ${run.envName} ended: ${result.reason}, exit code ${result.exitCode}${result.message ? `: ${result.message}` : ""}\n`,
      );
    }
    return interruptedBy && result.reason === "cancelled" ? EXIT_CANCELLED : result.exitCode;
  } finally {
    signals.off("SIGINT", onSignal);
    signals.off("SIGTERM", onSignal);
    io.progress.clear();
    await cli.stop();
  }
}
