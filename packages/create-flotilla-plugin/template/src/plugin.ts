// The {{provider}} provider plugin: its name and version, its configuration, and the services it serves.
// serve() advertises exactly the services given here, so a host knows what this plugin can do.
import { readFileSync } from "node:fs";
import {
  checkAgainstSchema,
  FailedPreconditionError,
  formatProblems,
  InvalidArgumentError,
  type PluginDefinition,
  type SchemaNode,
} from "@flotilla/plugin-sdk";
import { FakeCloud } from "./cloud.js";
import { createRunner } from "./runner.js";

/** The provider name: jobs are `{{provider}}:<job id>`, and flotilla.yaml names the plugin so. */
export const PROVIDER = "{{provider}}";

const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  version: string;
};

/**
 * The provider config, as JSON Schema: published in the plugin's registry (a host checks flotilla.yaml's
 * `config:` against it before starting anything) and checked again in configure.
 */
export const configSchema = {
  type: "object",
  properties: {
    region: { type: "string", enum: ["fake-1", "fake-2"], description: 'where jobs run, e.g. "fake-1"' },
  },
  additionalProperties: false,
};

/** The plugin, on `cloud` (a fresh in-memory cloud unless a test passes its own). */
export function createPlugin(cloud = new FakeCloud()): PluginDefinition {
  let region: string | undefined;
  return {
    name: PROVIDER,
    version,
    configSchema,
    // The jobs `flotilla plugin test` and the conformance test run: a quick one that prints a few lines,
    // and one that runs until it is cancelled. Make both jobs that run on your cloud.
    conformanceJobs: {
      quick: { command: ["one", "two", "three"] },
      longRunning: { command: ["started"], env: { SLEEP_MS: "600000" } },
    },
    provider: {
      configure({ configJson }) {
        let config: { region?: string };
        try {
          config = JSON.parse(new TextDecoder().decode(configJson) || "{}");
        } catch (error) {
          throw new InvalidArgumentError(
            `${PROVIDER} provider config is not valid JSON (${(error as Error).message}); send a JSON object`,
          );
        }
        const problems = checkAgainstSchema(config, configSchema as SchemaNode);
        if (problems.length > 0) {
          throw new InvalidArgumentError(`${PROVIDER} provider config is invalid: ${formatProblems(problems)}`);
        }
        region = config.region ?? "fake-1";
        return {};
      },
    },
    runner: createRunner({
      provider: PROVIDER,
      cloud,
      region: () => {
        if (region === undefined)
          throw new FailedPreconditionError(`${PROVIDER} is not configured yet: call Configure first`);
        return region;
      },
    }),
    regionLister: {
      async listRegions() {
        const ids = (await cloud.listRegions()).sort();
        return { regions: ids.map((id) => ({ id, displayName: id, available: true })) };
      },
    },
  };
}
