import { create } from "@bufbuild/protobuf";
import { ConfigureRequestSchema } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import { createLocalPlugin, LOCAL_PLUGIN_NAME, LOCAL_PLUGIN_VERSION } from "./definition.js";

describe("createLocalPlugin", () => {
  it("implements the runner and region lister, not the resource driver or drift detector", () => {
    const { definition } = createLocalPlugin({});
    expect(definition.name).toBe(LOCAL_PLUGIN_NAME);
    expect(LOCAL_PLUGIN_VERSION).toMatch(/^\d+\.\d+\.\d+/);
    expect(Object.keys(definition.runner ?? {}).sort()).toEqual([
      "batchJobStatus",
      "cancelJob",
      "jobLogs",
      "jobStatus",
      "runJob",
    ]);
    expect(definition.regionLister).toBeDefined();
    expect(definition.resourceDriver).toBeUndefined();
    expect(definition.driftDetector).toBeUndefined();
    expect(definition.configSchema).toMatchObject({ type: "object" });
    expect(definition.targetSchema).toMatchObject({ properties: { local: { type: "object" } } });
  });

  it("configure rejects a bad config naming the key", async () => {
    const { definition } = createLocalPlugin({});
    const request = create(ConfigureRequestSchema, { configJson: new TextEncoder().encode('{"inherit_env":"yes"}') });
    expect(() => definition.provider.configure(request, {} as never)).toThrow(/inherit_env must be true or false/);
  });
});
