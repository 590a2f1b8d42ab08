import { OptionalServiceName } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import type { PluginDefinition } from "./definition.js";
import { buildRegistration } from "./registry.js";
import { SDK_NAME_AND_VERSION } from "./sdk-version.js";
import { PluginStartupError } from "./startup-error.js";

const base: PluginDefinition = { name: "demo", version: "1.2.3", provider: { configure: () => ({}) } };
const noop = async () => ({});

describe("buildRegistration", () => {
  it("serves and advertises exactly the optional services given", () => {
    const { services, registry } = buildRegistration(
      { ...base, regionLister: { listRegions: noop }, driftDetector: { detectDrift: noop } },
      1,
    );
    expect(services.map((s) => s.service.typeName)).toEqual([
      "flotilla.plugin.v1.IaCProviderService",
      OptionalServiceName.regionLister,
      OptionalServiceName.driftDetector,
    ]);
    expect(registry.services).toEqual([OptionalServiceName.regionLister, OptionalServiceName.driftDetector]);
    expect(registry).toMatchObject({
      pluginName: "demo",
      pluginVersion: "1.2.3",
      protocolVersion: 1,
      sdk: SDK_NAME_AND_VERSION,
    });
  });

  it("advertises nothing optional for a provider-only plugin and leaves schemas empty", () => {
    const { registry } = buildRegistration(base, 1);
    expect(registry.services).toEqual([]);
    expect(registry.configSchemaJson).toBe("");
    expect(registry.targetSchemaJson).toBe("");
  });

  it("puts the schemas in the registry as JSON text", () => {
    const { registry } = buildRegistration({ ...base, targetSchema: { type: "object", required: ["cluster"] } }, 1);
    expect(JSON.parse(registry.targetSchemaJson)).toEqual({ type: "object", required: ["cluster"] });
  });

  it("publishes the conformance jobs of a runner, and refuses them without one", () => {
    const runner = {
      runJob: noop,
      jobStatus: noop,
      batchJobStatus: noop,
      jobLogs: async function* () {},
      cancelJob: noop,
    };
    const conformanceJobs = { quick: { command: ["echo", "hi"] }, longRunning: { command: ["sleep", "600"] } };
    const { registry } = buildRegistration({ ...base, runner, conformanceJobs }, 1);
    expect(registry.conformanceJobs?.quick?.command).toEqual(["echo", "hi"]);
    expect(registry.conformanceJobs?.longRunning?.command).toEqual(["sleep", "600"]);
    expect(buildRegistration({ ...base, runner }, 1).registry.conformanceJobs).toBeUndefined();
    expect(() => buildRegistration({ ...base, conformanceJobs }, 1)).toThrow(
      /`conformanceJobs` is given without a `runner`: leave it out, or implement the runner it exercises/,
    );
  });

  it("rejects a partially implemented service, naming the service and each missing method", () => {
    const partial = {
      ...base,
      resourceDriver: { createResource: noop, readResource: noop },
    } as unknown as PluginDefinition;
    expect(() => buildRegistration(partial, 1)).toThrow(
      /`resourceDriver` \(flotilla\.plugin\.v1\.ResourceDriverService\) is missing updateResource, deleteResource, diffResource/,
    );
  });

  it("reports every problem at once: bad name, empty version, missing configure", () => {
    const bad = { name: "Bad Name", version: "", provider: {} } as unknown as PluginDefinition;
    let message = "";
    try {
      buildRegistration(bad, 1);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('plugin name "Bad Name" is invalid');
    expect(message).toContain("plugin version is empty");
    expect(message).toContain("`provider.configure` is missing");
  });

  it("keeps an author's describe() over the default", async () => {
    const { services } = buildRegistration(
      { ...base, provider: { configure: noop, describe: () => ({ name: "x" }) } },
      1,
    );
    const describe = services[0]?.handlers.describe as () => unknown;
    expect(describe()).toEqual({ name: "x" });
  });
});

describe("buildRegistration, the details", () => {
  const startError = (definition: unknown): string => {
    try {
      buildRegistration(definition as PluginDefinition, 1);
    } catch (err) {
      expect(err).toBeInstanceOf(PluginStartupError);
      return (err as Error).message;
    }
    throw new Error("expected buildRegistration to refuse the definition");
  };

  it("wants the whole name in lower case letters, digits and dashes", () => {
    expect(startError({ ...base, name: "demo_plugin" })).toBe(
      'plugin "demo_plugin" cannot start:\n  - plugin name "demo_plugin" is invalid: use lower case letters, digits and dashes, starting with a letter',
    );
    expect(buildRegistration({ ...base, name: "a-9" }, 1).registry.pluginName).toBe("a-9");
  });

  it("reports a missing provider instead of crashing on it", () => {
    expect(startError({ name: "demo", version: "1.0.0" })).toBe(
      'plugin "demo" cannot start:\n  - `provider.configure` is missing: implement IaCProviderService.configure, or declare `config` (defineConfig) and the SDK checks and keeps the config itself',
    );
  });

  it("lists every problem on its own line, with the fix for a partial service", () => {
    expect(startError({ ...base, version: "", driftDetector: {} })).toBe(
      [
        'plugin "demo" cannot start:',
        "  - plugin version is empty: set `version` to the plugin's semver, e.g. 1.0.0",
        "  - `driftDetector` (flotilla.plugin.v1.DriftDetectorService) is missing detectDrift: implement every method of the service, or leave `driftDetector` out so the service is not advertised",
      ].join("\n"),
    );
  });

  it("skips optional services set to null or undefined", () => {
    const { registry, services } = buildRegistration(
      { ...base, regionLister: null, driftDetector: undefined } as unknown as PluginDefinition,
      1,
    );
    expect(registry.services).toEqual([]);
    expect(services).toHaveLength(1);
  });

  it("answers describe() with the plugin's name and version and no capabilities by default", () => {
    const { services } = buildRegistration(base, 1);
    const describeHandler = services[0]?.handlers.describe as () => unknown;
    expect(describeHandler()).toEqual({
      name: "demo",
      version: "1.2.3",
      capabilities: [],
    });
  });

  it("names the schema that cannot be serialised", () => {
    const cyclic: Record<string, unknown> = { type: "object" };
    cyclic.self = cyclic;
    expect(() => buildRegistration({ ...base, configSchema: cyclic } as PluginDefinition, 1)).toThrow(
      /^configSchema cannot be serialised to JSON: Converting circular structure/,
    );
    expect(() => buildRegistration({ ...base, targetSchema: { n: 1n } } as unknown as PluginDefinition, 1)).toThrow(
      /^targetSchema cannot be serialised to JSON: Do not know how to serialize a BigInt/,
    );
  });
});
