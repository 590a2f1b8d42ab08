import { OptionalServiceName } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import type { PluginDefinition } from "./definition.js";
import { buildRegistration } from "./registry.js";
import { SDK_NAME_AND_VERSION } from "./sdk-version.js";

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
