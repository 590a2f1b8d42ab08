/**
 * Which plugin process serves a provider: an entry of flotilla.yaml, or the
 * built-in local provider plugin run with this same Node.
 */
import { homedir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { MAX_START_TIMEOUT_MS, type PluginConfig } from "@flotilla/host";
import { CredentialReferenceSchema, formatDuration, parseDuration } from "@flotilla/protocol";
import { type FlotillaConfig, LOCAL_PROVIDER } from "./config/flotilla-config.js";
import { localPluginMain } from "./local-plugin.js";

/** The longest start timeout: the host's limit, named as people write durations. */
export const START_TIMEOUT_LIMIT = { ms: MAX_START_TIMEOUT_MS, name: formatDuration(MAX_START_TIMEOUT_MS) };

/**
 * Node options of the built-in local provider plugin. A small young generation (4 MB semi-spaces instead of
 * Node 24's default that grows to 64 MB each): the plugin streams job logs, so it allocates fast and keeps
 * little, and a large young generation would be resident memory held for garbage. Measured (docs/benchmarks.md,
 * Log flood): a 50 MB flood peaked the plugin at 289 MB with the default, about 170 MB with a small semi-space,
 * at about the same speed.
 */
export const LOCAL_PLUGIN_NODE_OPTIONS: readonly string[] = ["--max-semi-space-size=4"];

/** Extra grants for one CLI invocation. */
export interface ProviderGrants {
  /** Host environment variables passed through to the plugin (e.g. the ones `secret://env/` references name). */
  inheritEnv?: readonly string[];
  /**
   * The built-in local provider runs its jobs as durable jobs (`durable_jobs`): they outlive this invocation
   * (`flotilla run --detach`). Other plugins' jobs run wherever their provider runs them anyway.
   */
  durableLocalJobs?: boolean;
}

/**
 * Where Flotilla keeps its state on this machine (the job journal, the local provider's job records):
 * $XDG_STATE_HOME/flotilla, else ~/.local/state/flotilla.
 */
export function flotillaStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), ".local", "state");
  return join(base, "flotilla");
}

/**
 * Where the built-in local provider records its jobs, so a later plugin
 * process can answer for a job after the `flotilla run` that ran it has
 * ended: `local-jobs` in {@link flotillaStateDir}.
 * `plugins.local.config.state_dir` overrides it.
 */
export function localStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(flotillaStateDir(env), "local-jobs");
}

/** Every provider name a config offers: the built-in local one, then the file's plugins. */
export function providerNames(config: FlotillaConfig): string[] {
  return [...new Set([LOCAL_PROVIDER, ...Object.keys(config.plugins ?? {})])];
}

/**
 * The PluginConfig that starts provider `name`. A flotilla.yaml entry wins
 * over the built-in local provider: `plugins.local` with a `command` replaces
 * it, without one it configures it (e.g. `config: { secrets_dir: ... }`).
 */
export function pluginConfigFor(name: string, config: FlotillaConfig, grants: ProviderGrants = {}): PluginConfig {
  const entry = config.plugins?.[name];
  const inherit = [...(entry?.inherit_env ?? []), ...(grants.inheritEnv ?? [])];
  if (entry) {
    const builtIn = entry.command === undefined;
    const [command, ...args] = entry.command ?? [process.execPath, ...LOCAL_PLUGIN_NODE_OPTIONS, localPluginMain()];
    const plugin: PluginConfig = {
      name,
      command,
      args: [...args, ...(entry.args ?? [])],
      config: builtIn
        ? { state_dir: localStateDir(), ...entry.config, ...(grants.durableLocalJobs ? { durable_jobs: true } : {}) }
        : (entry.config ?? {}),
    };
    if (entry.env) plugin.env = entry.env;
    if (inherit.length) plugin.inheritEnv = inherit;
    if (entry.checksum) plugin.sha256 = entry.checksum.replace(/^sha256:/, "");
    if (entry.start_timeout)
      plugin.startTimeoutMs = parseDuration(entry.start_timeout, `plugins.${name}.start_timeout`, START_TIMEOUT_LIMIT);
    if (entry.auto_mtls !== undefined) plugin.autoMtls = entry.auto_mtls;
    if (entry.credentials) plugin.credentials = entry.credentials.map((c) => create(CredentialReferenceSchema, c));
    return plugin;
  }
  if (name === LOCAL_PROVIDER) {
    const plugin: PluginConfig = {
      name,
      command: process.execPath,
      args: [...LOCAL_PLUGIN_NODE_OPTIONS, localPluginMain()],
      config: { state_dir: localStateDir(), ...(grants.durableLocalJobs ? { durable_jobs: true } : {}) },
    };
    if (inherit.length) plugin.inheritEnv = inherit;
    return plugin;
  }
  throw new RangeError(
    `provider ${JSON.stringify(name)} is not configured; known providers: ${providerNames(config).join(", ")} (add it under plugins: in flotilla.yaml)`,
  );
}
