import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { LOCAL_REGION_ID, localRegionLister } from "./regions.js";

describe("localRegionLister", () => {
  it("answers exactly one available region, local", async () => {
    const response = await localRegionLister().listRegions({} as never, {} as never);
    expect(response.regions).toHaveLength(1);
    expect(response.regions?.[0]).toEqual({
      id: "local",
      displayName: `this machine (${hostname()})`,
      available: true,
    });
    expect(LOCAL_REGION_ID).toBe("local");
  });
});
