/**
 * `flotilla plugin test [--json] [--job JSON] [--long-job JSON] [--config JSON] [--no-auto-mtls] -- PLUGIN_COMMAND...`:
 * runs the conformance suite (`runConformance` of @flotilla/plugin-sdk/testing) against any plugin
 * executable, whatever its language, and prints one line per check with its reason. Exits 0 when no
 * check failed, 1 when one did: a CI step can run it as it is. The jobs are JobSpecs in the protobuf
 * JSON mapping (`"timeout": "600s"`, `"target": {"local": {"shell": true}}`), as other languages write them.
 */
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { type ConformanceCheck, type ConformanceReport, runConformance } from "@flotilla/plugin-sdk/testing";
import { type JobSpec, JobSpecSchema } from "@flotilla/protocol";
import { CliError } from "../cli-error.js";
import type { Progress } from "../progress.js";

/** Options of `flotilla plugin test`. */
export interface PluginTestOptions {
  /** Print the report as one JSON document. */
  json?: boolean;
  /** A tiny job the plugin can run, as a JSON JobSpec, e.g. '{"command":["sh","-c","echo hi"]}'; default the registry's. */
  job?: string;
  /** A job that runs until cancelled, as a JSON JobSpec; default the registry's. */
  longJob?: string;
  /** The provider configuration sent with Configure, as JSON. */
  config?: string;
  /** False with --no-auto-mtls: do not offer AutoMTLS. */
  autoMtls?: boolean;
}

const marks: Record<ConformanceCheck["status"], string> = { passed: "✓", failed: "✗", skipped: "-" };

/** Runs the suite and prints its report; returns the exit code. */
export async function pluginTestCommand(
  command: string[],
  options: PluginTestOptions,
  io: { stdout: NodeJS.WritableStream; progress: Progress },
): Promise<number> {
  const [executable, ...args] = command;
  if (executable === undefined) {
    throw new CliError(
      "flotilla plugin test: no plugin command given; put it after --, e.g. `flotilla plugin test -- node plugin.js`",
    );
  }
  const job = options.job === undefined ? undefined : parseJobSpec("--job", options.job);
  const longJob = options.longJob === undefined ? undefined : parseJobSpec("--long-job", options.longJob);
  if (options.config !== undefined) parseJson("--config", options.config);
  io.progress.update(`testing ${command.join(" ")}`);
  const report = await runConformance(executable, args, {
    ...(job ? { job } : {}),
    ...(longJob ? { longJob } : {}),
    ...(options.config === undefined ? {} : { configJson: options.config }),
    autoMtls: options.autoMtls !== false,
  });
  io.progress.clear();
  io.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return report.passed ? 0 : 1;
}

/** The report as people read it: one line per check, its reason, and a count. */
export function formatReport(report: ConformanceReport): string {
  const lines = [`flotilla plugin test: ${report.command.join(" ")}`];
  for (const check of report.checks) lines.push(`  ${marks[check.status]} ${check.name} — ${check.detail}`);
  const count = (status: ConformanceCheck["status"]) => report.checks.filter((c) => c.status === status).length;
  lines.push(`${count("passed")} passed, ${count("failed")} failed, ${count("skipped")} skipped`);
  return `${lines.join("\n")}\n`;
}

function parseJson(option: string, text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    throw new CliError(
      `${option}: not JSON (${(error as Error).message}); e.g. ${option} '{"command":["sh","-c","echo hi"]}'`,
    );
  }
}

function parseJobSpec(option: string, text: string): JobSpec {
  const json = parseJson(option, text);
  try {
    return fromJson(JobSpecSchema, json);
  } catch (error) {
    throw new CliError(
      `${option}: not a JobSpec (${(error as Error).message}); give its fields in the protobuf JSON mapping, e.g. ${option} '{"command":["sleep","600"],"timeout":"900s"}'`,
    );
  }
}
