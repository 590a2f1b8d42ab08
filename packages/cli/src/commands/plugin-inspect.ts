/**
 * `flotilla plugin inspect [--json] [--start-timeout DUR] -- PLUGIN_COMMAND...`:
 * starts any plugin the way the host does, shows what it said about itself
 * (handshake, protocol, services, schemas and the keys they mark sensitive,
 * ready time) and stops it. A
 * plugin that fails to start gets the runtime's error (plugin, phase,
 * timeout, stderr tail) and a non-zero exit.
 */

import type { PluginConfig, StartTimings } from "@flotilla/host";
import { type ContractRegistry, parseDuration, sensitiveKeys } from "@flotilla/protocol";
import type { Handshake } from "@flotilla/protocol/wire";
import { CliError } from "../cli-error.js";
import { CliHost } from "../cli-host.js";
import type { Progress } from "../progress.js";
import { START_TIMEOUT_LIMIT } from "../provider-plugins.js";

/** Options of `flotilla plugin inspect`. */
export interface InspectOptions {
  /** Print one JSON document instead of text. */
  json?: boolean;
  /** Start timeout as a duration; default the host's. */
  startTimeout?: string;
  /** Show every plugin log record. */
  verbose?: boolean;
}

/** Everything `plugin inspect` reports, as its --json output. */
export interface InspectReport {
  command: string[];
  plugin: string;
  version: string;
  sdk: string;
  protocolVersion: number;
  handshake: {
    coreProtocolVersion: number;
    appProtocolVersion: number;
    network: string;
    address: string;
    protocol: string;
    autoMtls: boolean;
    multiplexSupported: boolean | null;
  };
  services: string[];
  configSchema: unknown;
  targetSchema: unknown;
  /**
   * Key paths of the values the schemas mark sensitive (`writeOnly: true`): secrets a config or
   * target carries, never shown by Flotilla (`[redacted]` in the plugin's logs and errors).
   */
  sensitive: { config: string[]; target: string[] };
  timings: StartTimings;
}

/** A plugin name for logs and errors, from the command: "aws" for `node plugins/aws/dist/main.js`. */
export function nameForCommand(command: readonly string[]): string {
  const parts = command
    .flatMap((arg) => arg.split("/"))
    .map((p) => p.replace(/\.[A-Za-z0-9]+$/, "").toLowerCase())
    .filter((p) => /^[a-z0-9][a-z0-9-]*$/.test(p) && !["node", "dist", "main", "index", "bin", "src"].includes(p));
  const last = parts.at(-1) ?? "plugin";
  const cleaned = last
    .replace(/[^a-z0-9-]/g, "-")
    .replace(/^-+/, "")
    .slice(0, 63);
  return cleaned || "plugin";
}

function schemaOf(json: string): unknown {
  if (json === "") return null;
  try {
    return JSON.parse(json);
  } catch {
    return { invalidJson: json };
  }
}

/** Builds the report from what the host read. */
export function buildReport(
  command: string[],
  handshake: Handshake,
  registry: ContractRegistry,
  timings: StartTimings,
): InspectReport {
  const configSchema = schemaOf(registry.configSchemaJson);
  const targetSchema = schemaOf(registry.targetSchemaJson);
  return {
    command,
    plugin: registry.pluginName,
    version: registry.pluginVersion,
    sdk: registry.sdk,
    protocolVersion: registry.protocolVersion,
    handshake: {
      coreProtocolVersion: handshake.coreProtocolVersion,
      appProtocolVersion: handshake.appProtocolVersion,
      network: handshake.network,
      address: handshake.address,
      protocol: handshake.protocol,
      autoMtls: handshake.serverCertDer !== undefined,
      multiplexSupported: handshake.multiplexSupported ?? null,
    },
    services: [...registry.services],
    configSchema,
    targetSchema,
    sensitive: { config: sensitiveKeys(configSchema), target: sensitiveKeys(targetSchema) },
    timings,
  };
}

function sensitiveLine(sensitive: InspectReport["sensitive"]): string {
  const parts = [
    ...(sensitive.config.length ? [`config ${sensitive.config.join(", ")}`] : []),
    ...(sensitive.target.length ? [`target ${sensitive.target.join(", ")}`] : []),
  ];
  return parts.length ? `${parts.join("; ")} (writeOnly: shown as [redacted])` : "(no key marked writeOnly)";
}

/** Renders the report for people. */
export function formatReport(report: InspectReport): string {
  const h = report.handshake;
  const indent = (value: unknown) =>
    value === null ? "  (none: accepts any JSON object)" : JSON.stringify(value, null, 2).replace(/^/gm, "  ");
  return [
    `plugin          ${report.plugin} ${report.version}`,
    `sdk             ${report.sdk || "(not reported)"}`,
    `command         ${report.command.join(" ")}`,
    `handshake       core protocol ${h.coreProtocolVersion}, app protocol ${h.appProtocolVersion}, ${h.protocol} over ${h.network} ${h.address}`,
    `                AutoMTLS ${h.autoMtls ? "on (server certificate pinned)" : "off"}, multiplexing ${h.multiplexSupported === null ? "not reported" : h.multiplexSupported ? "supported" : "not supported"}`,
    `protocol        ${report.protocolVersion} (contract flotilla.plugin.v1)`,
    `services        ${report.services.length ? report.services.join("\n                ") : "(no optional services)"}`,
    `ready in        ${report.timings.readyMs.toFixed(0)} ms (handshake after ${report.timings.handshakeMs.toFixed(0)} ms)`,
    `sensitive       ${sensitiveLine(report.sensitive)}`,
    "config schema",
    indent(report.configSchema),
    "target schema",
    indent(report.targetSchema),
    "",
  ].join("\n");
}

/** Runs the command; returns the exit code. */
export async function inspectCommand(
  command: string[],
  options: InspectOptions,
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; progress: Progress },
): Promise<number> {
  const [executable, ...args] = command;
  if (executable === undefined) {
    throw new CliError(
      "flotilla plugin inspect: no plugin command given; put it after --, e.g. `flotilla plugin inspect -- node plugin.js`",
    );
  }
  const config: PluginConfig = {
    name: nameForCommand(command),
    command: executable,
    args,
    skipConfigure: true,
    restart: { enabled: false },
  };
  if (options.startTimeout !== undefined)
    config.startTimeoutMs = parseDuration(options.startTimeout, "--start-timeout", START_TIMEOUT_LIMIT);
  const cli = new CliHost({ verbose: options.verbose ?? false, stderr: io.stderr });
  try {
    io.progress.update(`starting ${command.join(" ")}`);
    const provider = await cli.startProvider(config);
    const process = cli.host.get(config.name)?.current;
    if (!process) throw new CliError(`plugin "${config.name}" stopped right after it started`);
    const report = buildReport(command, process.handshake, provider.registry, process.timings);
    io.progress.clear();
    io.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    return 0;
  } finally {
    io.progress.clear();
    await cli.stop();
  }
}
