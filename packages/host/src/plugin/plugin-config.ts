/**
 * How a host is told to run one plugin. Everything optional has a default
 * chosen to beat go-plugin (shorter start timeout, restarts, a process group).
 */
import { type CredentialReference, InvalidArgumentError, parseSecretReference } from "@flotilla/protocol";
import type { RestartPolicyOptions } from "./restart-policy.js";

/** One plugin to start. */
export interface PluginConfig {
  /** Name used in logs, errors and `host.get(name)`; unique within a host. */
  name: string;
  /** The executable: a path, or a name looked up in the plugin's PATH. */
  command: string;
  /** Arguments passed to the executable. */
  args?: readonly string[];
  /** Working directory; defaults to the host's. */
  cwd?: string;
  /**
   * Environment variables this plugin is granted on top of the minimal
   * environment (e.g. its cloud credentials). Values are treated as secrets:
   * those of 8 characters or more are masked in every log record and error.
   */
  env?: Readonly<Record<string, string>>;
  /** Names of host environment variables passed through with their current values (also masked in logs). */
  inheritEnv?: readonly string[];
  /** Expected SHA-256 (hex) of the executable; checked before every start. */
  sha256?: string;
  /** How long spawn → handshake → health → registry → configure may take; default 10 000 ms. */
  startTimeoutMs?: number;
  /** Serve and pin TLS certificates on both sides (go-plugin AutoMTLS); default true. */
  autoMtls?: boolean;
  /** App protocol versions this host accepts for the plugin; default [APP_PROTOCOL_VERSION]. */
  protocolVersions?: readonly number[];
  /** Let the plugin listen on TCP within this port range instead of a Unix socket. */
  tcpPortRange?: { min: number; max: number };
  /** Provider configuration sent with IaCProviderService.Configure; default `{}`. */
  config?: unknown;
  /** Credential references sent with Configure (references, never values). */
  credentials?: readonly CredentialReference[];
  /** Skip IaCProviderService.Configure (for tools such as `plugin inspect`). */
  skipConfigure?: boolean;
  /** Restart behaviour after a crash. */
  restart?: RestartPolicyOptions;
  /** How many stderr lines to keep for error messages; default 20. */
  stderrTailLines?: number;
}

/** Default start timeout: go-plugin waits a fixed 60 s; a healthy plugin needs well under 1 s. */
export const DEFAULT_START_TIMEOUT_MS = 10_000;

/** The longest a plugin may take to start: far more than any plugin needs, far less than Node's timer limit. */
export const MAX_START_TIMEOUT_MS = 3_600_000;

/** Plugin names: lower case letters, digits and dashes, as the contract asks. */
const namePattern = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Rejects a config a host cannot use with an InvalidArgumentError naming the plugin, the key and the fix. */
export function validatePluginConfig(config: PluginConfig): void {
  const label = `plugin config ${JSON.stringify(config.name ?? "")}`;
  if (typeof config.name !== "string" || !namePattern.test(config.name)) {
    throw new InvalidArgumentError(
      `${label}: "name" must be 1-63 lower case letters, digits or dashes starting with a letter or digit`,
    );
  }
  if (typeof config.command !== "string" || config.command === "") {
    throw new InvalidArgumentError(`${label}: "command" must name the plugin executable (a path or a name on PATH)`);
  }
  if (config.sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(config.sha256)) {
    throw new InvalidArgumentError(
      `${label}: "sha256" must be 64 hex digits (the output of sha256sum), got ${config.sha256.length} characters`,
    );
  }
  if (
    config.startTimeoutMs !== undefined &&
    !(config.startTimeoutMs > 0 && config.startTimeoutMs <= MAX_START_TIMEOUT_MS)
  ) {
    throw new InvalidArgumentError(
      `${label}: "startTimeoutMs" must be a positive number of milliseconds, at most ${MAX_START_TIMEOUT_MS} (one hour); a plugin that has not printed its handshake by then will not`,
    );
  }
  const range = config.tcpPortRange;
  if (
    range &&
    !(
      Number.isInteger(range.min) &&
      Number.isInteger(range.max) &&
      range.min > 0 &&
      range.min <= range.max &&
      range.max < 65536
    )
  ) {
    throw new InvalidArgumentError(`${label}: "tcpPortRange" must have integer ports with 0 < min <= max < 65536`);
  }
  // A plain value here would travel to the plugin, and into its logs, as if it were a reference.
  config.credentials?.forEach(({ reference }, index) => {
    parseSecretReference(reference, `${label}: credentials[${index}].reference`);
  });
}
