/**
 * The `flotilla` command line: commander wiring of the commands in
 * ./commands, shared options, and one place that turns errors into messages
 * and exit codes. Each command's module is imported only when it runs, so
 * `--help` and a quick command do not pay for gRPC, ajv and the rest.
 */
import { readFileSync } from "node:fs";
import { PluginError } from "@flotilla/host";
import { InvalidArgumentError } from "@flotilla/protocol";
import { Command, CommanderError, Option } from "commander";
import { CliError } from "./cli-error.js";
import { ConfigError } from "./config/config-error.js";
import { EXIT_USAGE_OR_HOST_ERROR } from "./exit-status.js";
import { collectKeyValue } from "./key-value.js";
import { createProgress, type Progress } from "./progress.js";

/** The streams and signal source a CLI run uses. */
export interface CliIo {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  progress?: Progress;
}

/** Parses `argv` (as process.argv: node, script, args...), runs the command and returns its exit code. */
export async function runCli(
  argv: readonly string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const progress = io.progress ?? createProgress(io.stderr);
  const streams = { stdout: io.stdout, stderr: io.stderr, progress };
  let exitCode = 0;
  const program = new Command("flotilla")
    .description("Run one-off jobs through Flotilla provider plugins, and inspect plugins.")
    .version(readVersion(), "-V, --version")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError("(run with --help for usage)");
  const configOption = () =>
    new Option(
      "-c, --config <path>",
      "flotilla.yaml to use (default: ./flotilla.yaml if present, else the built-in local provider)",
    );
  const verboseOption = () => new Option("-v, --verbose", "show every plugin log record, not only warnings and errors");

  program
    .command("run")
    .description("run COMMAND as a job through a provider plugin, stream its output, and exit with its exit code")
    .usage("[options] -- COMMAND [ARGS...]")
    .option(
      "-p, --provider <name>",
      "provider to run the job on (default: default_provider of flotilla.yaml, else local)",
    )
    .option(
      "--env <name>",
      'execution environment from exec_environments in flotilla.yaml (local, local-docker, kubernetes, ephemeral, ...); default "provider-ephemeral": the provider\'s job runner',
    )
    .option("-e, --env-var <KEY=VALUE>", "environment variable for the job (repeatable)", collectKeyValue("-e"))
    .option(
      "-s, --secret <KEY=secret://REF>",
      "secret environment variable as a reference: secret://env/NAME or secret://file/NAME (repeatable)",
      collectKeyValue("--secret"),
    )
    .option("-t, --timeout <duration>", 'stop the job and fail it after this long, e.g. "30s" or "5m"')
    .option("--image <image>", "container image (ignored by the local provider)")
    .option("--name <name>", "job name", "flotilla-run")
    .option("-d, --detach", "print the job's handle once the provider has it and return; the job runs on")
    .addOption(configOption())
    .addOption(verboseOption())
    .argument("<command...>", "the command to run (after --)")
    .action(async (command: string[], options) => {
      const { runCommand } = await import("./commands/run.js");
      exitCode = await runCommand(command, { ...options, envVar: options.envVar }, streams);
    });

  const plugin = program.command("plugin").description("work with plugin executables");
  plugin
    .command("inspect")
    .description("start a plugin, show its handshake, protocol, services, schemas and ready time, then stop it")
    .usage("[options] -- PLUGIN_COMMAND [ARGS...]")
    .option("--json", "print one JSON document")
    .option("--start-timeout <duration>", 'how long the plugin may take to become ready, e.g. "5s"')
    .addOption(verboseOption())
    .argument("<command...>", "the plugin command (after --)")
    .action(async (command: string[], options) => {
      const { inspectCommand } = await import("./commands/plugin-inspect.js");
      exitCode = await inspectCommand(command, options, streams);
    });

  plugin
    .command("test")
    .description("run the conformance suite against a plugin executable in any language; exit 1 if a check fails")
    .usage("[options] -- PLUGIN_COMMAND [ARGS...]")
    .option("--json", "print the report as one JSON document")
    .option(
      "--job <json>",
      'a tiny job the plugin can run, as a JSON JobSpec, e.g. \'{"command":["sh","-c","echo hi"]}\' (default: the one its registry names)',
    )
    .option(
      "--long-job <json>",
      'a job that runs until cancelled, as a JSON JobSpec, e.g. \'{"command":["sleep","600"]}\' (default: the one its registry names)',
    )
    .option("--config <json>", "the provider configuration sent with Configure, as JSON")
    .option("--no-auto-mtls", "do not offer AutoMTLS (for a plugin that does not do TLS)")
    .argument("<command...>", "the plugin command (after --)")
    .action(async (command: string[], options) => {
      const { pluginTestCommand } = await import("./commands/plugin-test.js");
      exitCode = await pluginTestCommand(command, options, streams);
    });

  program
    .command("providers")
    .description("list the configured providers with their versions and services")
    .option("--json", "print JSON")
    .addOption(configOption())
    .addOption(verboseOption())
    .action(async (options) => {
      const { providersCommand } = await import("./commands/providers.js");
      exitCode = await providersCommand(options, streams);
    });

  program
    .command("regions")
    .description("list the regions of a provider")
    .argument("<provider>", "provider name, e.g. local")
    .option("--json", "print JSON")
    .addOption(configOption())
    .addOption(verboseOption())
    .action(async (provider: string, options) => {
      const { regionsCommand } = await import("./commands/regions.js");
      exitCode = await regionsCommand(provider, options, streams);
    });

  const jobs = program
    .command("jobs")
    .description("the jobs in the job journal: list them; status, logs and cancel of one by its handle");
  jobs
    .command("list")
    .description("list the jobs in the journal, newest first")
    .option("--json", "print JSON")
    .option("--limit <n>", "at most this many jobs", "50")
    .option("--unfinished", "only jobs not finished yet")
    .addOption(configOption())
    .addOption(verboseOption())
    .action(async (options) => {
      const { jobsCommand } = await import("./commands/jobs.js");
      exitCode = await jobsCommand("list", undefined, options, streams);
    });
  for (const action of ["status", "logs", "cancel"] as const) {
    const sub = jobs
      .command(action)
      .argument("<handle>", "the job's handle as flotilla run printed it (e.g. local:3f2a...), or its journal id")
      .option("--json", "print JSON")
      .addOption(configOption())
      .addOption(verboseOption());
    if (action === "status") sub.description("show a job's state, exit code and reason");
    if (action === "logs") {
      sub
        .description("print a job's log; with --follow, until the job ends")
        .option("-f, --follow", "keep following until the job ends")
        .option("--cursor <n>", "resume after line n of the log (as the last `jobs logs` printed)");
    }
    if (action === "cancel")
      sub.description("cancel a job and wait for it to stop").option("--reason <text>", "why, recorded with the job");
    sub.action(async (handle: string, options) => {
      const { jobsCommand } = await import("./commands/jobs.js");
      exitCode = await jobsCommand(action, handle, options, streams);
    });
  }

  program
    .command("serve")
    .description(
      "serve the host API (gRPC, gRPC-Web, Connect) to clients in any language until Ctrl-C; jobs go through the job journal",
    )
    .option(
      "--listen <address>",
      "unix:/path.sock, HOST:PORT or :PORT (default: unix socket host.sock in Flotilla's state directory)",
    )
    .option("--token-file <path>", "file holding the bearer token clients must send (default: $FLOTILLA_SERVE_TOKEN)")
    .option("--tls-cert <path>", "serve TLS with this certificate (PEM); needs --tls-key")
    .option("--tls-key <path>", "the TLS certificate's private key (PEM)")
    .option("--tls-client-ca <path>", "accept clients presenting a certificate this CA (PEM) signed (mTLS)")
    .option(
      "--keep-finished <n>",
      "finished jobs the journal keeps, newest first; older ones and their logs are pruned at start and hourly (default 10000)",
    )
    .option(
      "--allow-unauthenticated-socket",
      "on a Unix socket only: accept clients without credentials (the socket is mode 0600, its owner alone)",
    )
    .addOption(configOption())
    .addOption(verboseOption())
    .action(async (options) => {
      const { serveCommand } = await import("./commands/serve.js");
      exitCode = await serveCommand(options, streams);
    });

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (err) {
    progress.clear();
    return reportError(err, io.stderr);
  }
}

/** Prints an error as the operator should see it and returns the exit code. */
export function reportError(err: unknown, stderr: NodeJS.WritableStream): number {
  if (err instanceof CommanderError) {
    // Commander already printed its message (or the help / version text).
    return err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.code === "commander.help"
      ? 0
      : EXIT_USAGE_OR_HOST_ERROR;
  }
  if (err instanceof CliError) {
    stderr.write(`flotilla: ${err.message}\n`);
    return err.exitCode;
  }
  if (
    err instanceof ConfigError ||
    err instanceof PluginError ||
    // Bad input found by the shared model (e.g. a malformed secret reference): the message says it all.
    err instanceof InvalidArgumentError ||
    err instanceof RangeError ||
    err instanceof TypeError
  ) {
    stderr.write(`flotilla: ${err.message}\n`);
    return EXIT_USAGE_OR_HOST_ERROR;
  }
  if (err instanceof AggregateError) {
    stderr.write(`flotilla: ${err.message}\n`);
    return EXIT_USAGE_OR_HOST_ERROR;
  }
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  stderr.write(`flotilla: ${message}\n`);
  return EXIT_USAGE_OR_HOST_ERROR;
}

/** The package version, read at run time so the CLI reports the installed package's. */
function readVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string })
      .version;
  } catch {
    return "unknown";
  }
}
