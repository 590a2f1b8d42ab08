/**
 * flotilla.yaml as the host uses it once loaded: plugins by name, the default
 * provider, and the untouched exec environments section.
 */
import type { CredentialReference } from "@flotilla/protocol";

/** One plugin entry of flotilla.yaml. */
export interface PluginEntry {
  /**
   * The executable and its arguments; never empty. Only `local` may leave it
   * out (the built-in plugin). Once loaded from a file, a relative executable
   * path (one with a slash) is absolute, resolved against the file's folder.
   */
  command?: [string, ...string[]];
  /** Extra arguments appended to `command`. */
  args?: string[];
  /** Environment variables granted to the plugin. */
  env?: Record<string, string>;
  /** Host environment variables passed through by name. */
  inherit_env?: string[];
  /** "sha256:<hex>" of the executable, checked before each start. */
  checksum?: string;
  /** Start timeout as a duration, e.g. "10s". */
  start_timeout?: string;
  /** Pin TLS certificates with the plugin (go-plugin AutoMTLS); default true. False for plugins that do not do TLS. */
  auto_mtls?: boolean;
  /** The provider configuration sent with Configure. */
  config?: Record<string, unknown>;
  /** Credential references sent with Configure. */
  credentials?: Array<Pick<CredentialReference, "name" | "reference">>;
}

/** flotilla.yaml, validated. */
export interface FlotillaConfig {
  /** Format version; 1. */
  version?: 1;
  /** Provider used when `--provider` is not given. */
  default_provider?: string;
  /** Plugins by name. */
  plugins?: Record<string, PluginEntry>;
  /** Execution environments (owned by the exec package; passed through untouched). */
  exec_environments?: Record<string, Record<string, unknown>>;
  /** The job journal's SQLite file; relative to the file's folder once loaded. Default: see job-journal.ts. */
  journal?: string;
}

/** Name of the built-in local provider, available with or without a config file. */
export const LOCAL_PROVIDER = "local";

/** A loaded config and where it came from. */
export interface LoadedConfig {
  /** The validated config. */
  config: FlotillaConfig;
  /** The file it was read from; undefined for the built-in default. */
  path: string | undefined;
}

/** The provider a command uses: `--provider`, else the file's default, else local. */
export function defaultProviderOf(config: FlotillaConfig): string {
  return config.default_provider ?? LOCAL_PROVIDER;
}

/** True when `journal:` names a PostgreSQL database (a journal several hosts share) rather than a SQLite file. */
export function isPostgresUrl(journal: string): boolean {
  return /^postgres(ql)?:\/\//i.test(journal);
}
