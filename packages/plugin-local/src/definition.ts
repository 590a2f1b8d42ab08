/**
 * The local provider plugin as one PluginDefinition: what `serve()` runs in
 * main.ts, and what tests drive directly without a subprocess.
 */
import { readFileSync } from "node:fs";
import type { PluginDefinition } from "@flotilla/plugin-sdk";
import type { ProcessGroupRegistry } from "@flotilla/process";
import { type LocalConfig, localConfig, localTarget } from "./config.js";
import { LocalRunner } from "./local-runner.js";
import { localRegionLister } from "./regions.js";

/** The plugin's name; also the provider name in the handles it issues. */
export const LOCAL_PLUGIN_NAME = "local";

/** The plugin's version, read from its package.json so the two cannot disagree. */
export const LOCAL_PLUGIN_VERSION: string = JSON.parse(
  readFileSync(new URL("../package.json", import.meta.url), "utf8"),
).version;

/**
 * Longest a job gets between SIGTERM and SIGKILL when the plugin shuts down
 * (kill_grace_ms applies if shorter). The host sends the plugin SIGTERM about
 * 2 s after asking it to shut down; jobs must be gone before that.
 */
export const SHUTDOWN_KILL_GRACE_MS = 1_000;

/**
 * The jobs `flotilla plugin test` runs on this provider: processes that need nothing but a POSIX shell,
 * published in the registry so the suite needs no `--job`. The long one gives up after 10 minutes if the
 * suite died before cancelling it.
 */
export const localConformanceJobs: NonNullable<PluginDefinition["conformanceJobs"]> = {
  quick: { name: "conformance-quick", command: ["sh", "-c", "echo one; echo two; echo three"] },
  longRunning: {
    name: "conformance-long",
    command: ["sh", "-c", "echo started; sleep 600"],
    timeout: { seconds: 600n },
  },
};

/** A local provider definition plus the runner behind it (to stop its jobs on shutdown). */
export interface LocalPlugin {
  /** Hand this to `serve()`. */
  definition: PluginDefinition<LocalConfig>;
  /** The job runner; `runner.shutdown()` stops every job. */
  runner: LocalRunner;
}

/**
 * Builds the local provider. `environment` is the plugin's own environment:
 * `secret://env/` references resolve from it and jobs inherit it. The
 * executable passes a `ProcessGroupWatchdog` (`@flotilla/process`) so jobs die with the plugin.
 */
export function createLocalPlugin(
  environment: NodeJS.ProcessEnv = process.env,
  watchdog: ProcessGroupRegistry | undefined = undefined,
): LocalPlugin {
  // The defaults until Configure applies a config; worked out on first use, not while the plugin starts.
  let applied: LocalConfig | undefined;
  const config = (): LocalConfig => {
    applied ??= localConfig.defaults();
    return applied;
  };
  const runner = new LocalRunner({
    providerName: LOCAL_PLUGIN_NAME,
    environment,
    config,
    ...(watchdog ? { watchdog } : {}),
  });
  const definition: PluginDefinition<LocalConfig> = {
    name: LOCAL_PLUGIN_NAME,
    version: LOCAL_PLUGIN_VERSION,
    config: localConfig,
    targetSchema: localTarget.schema,
    provider: {
      // The SDK checked the config against localConfig; the runner reads it from here, also outside calls.
      configure: (_request, context) => {
        applied = context.config;
        return {};
      },
      describe: () => ({
        name: LOCAL_PLUGIN_NAME,
        version: LOCAL_PLUGIN_VERSION,
        capabilities: ["jobs", "jobs:local-process", "secrets:env", "secrets:file"],
      }),
    },
    runner: runner.service(),
    conformanceJobs: localConformanceJobs,
    regionLister: localRegionLister(),
    // A graceful plugin shutdown stops jobs gracefully too: SIGTERM lets a job's own
    // clean-up (`trap ... TERM`) run. main.ts's exit hook SIGKILLs whatever is left.
    onShutdown: async (signal) => {
      const stopping = runner.shutdown(
        "the local provider plugin is shutting down",
        Math.min(config().kill_grace_ms, SHUTDOWN_KILL_GRACE_MS),
      );
      const killNow = () => runner.killAllNow();
      signal.addEventListener("abort", killNow, { once: true });
      try {
        await stopping;
      } finally {
        signal.removeEventListener("abort", killNow);
      }
    },
  };
  return { definition, runner };
}
