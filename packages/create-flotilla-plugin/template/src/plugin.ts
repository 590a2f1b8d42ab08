// The {{provider}} provider plugin: its name and version, its configuration, and the services it serves.
// serve() advertises exactly the services given here, so a host knows what this plugin can do.
import { readFileSync } from "node:fs";
import { type ConfigOf, Configured, defineConfig, type PluginDefinition } from "@flotilla/plugin-sdk";
import { FakeCloud } from "./cloud.js";
import { createRunner } from "./runner.js";

/** The provider name: jobs are `{{provider}}:<job id>`, and flotilla.yaml names the plugin so. */
export const PROVIDER = "{{provider}}";

const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  version: string;
};

/**
 * The provider config, declared once as JSON Schema: the registry publishes it (a host checks flotilla.yaml's
 * `config:` against it before starting anything), the SDK checks every Configure against it before
 * `configure` runs and fills in the defaults, and `ConfigOf` is its TypeScript type. Mark a secret value
 * (an API token) with `sensitive({ type: "string" })`: the SDK then keeps it out of logs and errors.
 */
export const providerConfig = defineConfig({
  what: `the ${PROVIDER} provider config`,
  schema: {
    type: "object",
    additionalProperties: false,
    properties: {
      region: { type: "string", enum: ["fake-1", "fake-2"], default: "fake-1", description: "where jobs run" },
    },
  },
});
export type ProviderConfig = ConfigOf<typeof providerConfig.schema>;

/** The plugin, on `cloud` (a fresh in-memory cloud unless a test passes its own). */
export function createPlugin(cloud = new FakeCloud()): PluginDefinition<ProviderConfig> {
  // What Configure sets up; reading it before Configure is the "not configured yet" error.
  const region = new Configured<string>(PROVIDER);
  return {
    name: PROVIDER,
    version,
    config: providerConfig,
    // The jobs `flotilla plugin test` and the conformance test run: a quick one that prints a few lines,
    // and one that runs until it is cancelled. Make both jobs that run on your cloud.
    conformanceJobs: {
      quick: { command: ["one", "two", "three"] },
      longRunning: { command: ["started"], env: { SLEEP_MS: "600000" } },
    },
    provider: {
      // Called with the config already checked, defaults filled in (a bad one never gets here).
      configure(_request, { config }) {
        region.set(config.region);
        return {};
      },
    },
    runner: createRunner({ provider: PROVIDER, cloud, region: () => region.get() }),
    regionLister: {
      async listRegions() {
        const ids = (await cloud.listRegions()).sort();
        return { regions: ids.map((id) => ({ id, displayName: id, available: true })) };
      },
    },
  };
}
