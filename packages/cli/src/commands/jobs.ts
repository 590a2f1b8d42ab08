/**
 * `flotilla jobs status|logs|cancel HANDLE`: asks the provider that issued a
 * handle about its job.
 *
 * The CLI starts the provider plugin for each invocation. Cloud providers
 * find their jobs again through the cloud's API; the built-in local provider
 * finds them in the job records it keeps in its state directory (see
 * provider-plugins.ts), so a job run by an earlier `flotilla run` can be
 * asked about after that run has ended.
 */
import { LogStream, NotFoundError } from "@flotilla/protocol";
import { CliError } from "../cli-error.js";
import { CliHost } from "../cli-host.js";
import { loadConfig } from "../config/load-config.js";
import { stateName } from "../exit-status.js";
import { parseJobHandle } from "../job-handle.js";
import type { Progress } from "../progress.js";
import { pluginConfigFor } from "../provider-plugins.js";
import { writeLine } from "../write-line.js";

/** Options of the `flotilla jobs` subcommands. */
export interface JobsOptions {
  config?: string;
  json?: boolean;
  verbose?: boolean;
  /** logs: keep following until the job ends. */
  follow?: boolean;
  /** logs: resume after this cursor. */
  cursor?: string;
  /** cancel: the reason recorded with the provider. */
  reason?: string;
}

type JobsIo = { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; progress: Progress };

/** Runs one `jobs` subcommand; returns the exit code. */
export async function jobsCommand(
  action: "status" | "logs" | "cancel",
  handleText: string,
  options: JobsOptions,
  io: JobsIo,
): Promise<number> {
  const parsed = parseJobHandle(handleText);
  const { config } = loadConfig(options.config);
  const cli = new CliHost({ verbose: options.verbose ?? false, stderr: io.stderr });
  try {
    io.progress.update(`starting provider plugin ${parsed.provider}`);
    const provider = await cli.startProvider(pluginConfigFor(parsed.provider, config));
    const runner = provider.runner();
    if (!runner)
      throw new CliError(`provider "${parsed.provider}" does not run jobs, so it has no job ${parsed.jobId}`);
    io.progress.clear();
    // The handle's provider is the name the plugin gave itself (what it wrote into the handles it issued),
    // which may differ from the name flotilla.yaml gives it.
    const handle = { provider: provider.registry.pluginName || parsed.provider, jobId: parsed.jobId };
    try {
      if (action === "logs") {
        let cursor = options.cursor ?? "";
        for await (const response of runner.jobLogs({ handle, follow: options.follow ?? false, cursor })) {
          for (const line of response.lines) {
            // A record per LogLine as the provider sent it: a piece of an over-long line says `"continues": true`
            // (join the texts up to the piece without it). As text, a piece is written without its newline, so
            // the line reaches stdout whole without the CLI holding it. A full stream pushes back (writeLine).
            const waiting = options.json
              ? writeLine(
                  io.stdout,
                  JSON.stringify({
                    stream: LogStream[line.stream],
                    text: line.text,
                    cursor: line.cursor,
                    ...(line.continues ? { continues: true } : {}),
                  }),
                  false,
                )
              : writeLine(line.stream === LogStream.STDOUT ? io.stdout : io.stderr, line.text, line.continues);
            if (waiting) await waiting;
            cursor = line.cursor;
          }
        }
        if (!options.json) io.stderr.write(`flotilla: resume with --cursor ${cursor || '""'}\n`);
        return 0;
      }
      const { status } =
        action === "cancel"
          ? await runner.cancelJob({ handle, reason: options.reason ?? "cancelled with flotilla jobs cancel" })
          : await runner.jobStatus({ handle });
      if (!status) throw new CliError(`provider "${parsed.provider}" answered without a status`);
      const summary = {
        handle: handleText,
        state: stateName(status.state),
        exitCode: status.exitCode ?? null,
        reason: status.reason,
      };
      io.stdout.write(
        options.json
          ? `${JSON.stringify(summary, null, 2)}\n`
          : `${summary.handle}\t${summary.state}\t${summary.exitCode === null ? "-" : `exit ${summary.exitCode}`}\t${summary.reason}\n`,
      );
      return 0;
    } catch (err) {
      // An unknown job is an answer, not a failure of the CLI: exit 1 with the provider's message.
      if (err instanceof NotFoundError) throw new CliError(err.message, 1);
      throw err;
    }
  } finally {
    io.progress.clear();
    await cli.stop();
  }
}
