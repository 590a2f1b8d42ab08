import type { RegionListerService } from "@flotilla/protocol";
import { describe, expectTypeOf, it } from "vitest";
import type { PluginDefinition, ServiceImpl } from "./definition.js";

describe("ServiceImpl", () => {
  it("takes plain-object responses typed from the generated descriptors", () => {
    const regionLister: ServiceImpl<typeof RegionListerService> = {
      listRegions: async () => ({ regions: [{ id: "local", displayName: "This machine", available: true }] }),
    };
    expectTypeOf(regionLister).toExtend<PluginDefinition["regionLister"]>();
  });

  it("rejects a response of the wrong shape and a missing method", () => {
    const wrongShape: ServiceImpl<typeof RegionListerService> = {
      // @ts-expect-error: `idx` is not a field of Region
      listRegions: async () => ({ regions: [{ idx: 1 }] }),
    };
    // @ts-expect-error: listRegions is missing
    const missing: ServiceImpl<typeof RegionListerService> = {};
    expectTypeOf(wrongShape).not.toBeAny();
    expectTypeOf(missing).not.toBeAny();
  });
});
