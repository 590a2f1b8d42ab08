import { JobState, type RegionListerService } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import type { PluginDefinition, ServiceImpl } from "./definition.js";

describe("PluginDefinition types", () => {
  it("accept plain-object responses typed from the generated descriptors", async () => {
    const regionLister: ServiceImpl<typeof RegionListerService> = {
      listRegions: async () => ({ regions: [{ id: "local", displayName: "This machine", available: true }] }),
    };
    const plugin: PluginDefinition = {
      name: "example",
      version: "0.0.1",
      provider: { configure: async () => ({}) },
      regionLister,
    };
    const response = await plugin.regionLister?.listRegions({} as never, {} as never);
    expect(response?.regions?.[0]?.id).toBe("local");
    expect(JobState.SUCCEEDED).toBe(3);
  });
});
// What ServiceImpl refuses at compile time is in definition.test-d.ts, checked by tsc.
