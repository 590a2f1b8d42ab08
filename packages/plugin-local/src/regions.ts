/**
 * The local provider's RegionListerService: one region, "local", the
 * machine the plugin runs on.
 */
import { hostname } from "node:os";
import type { ServiceImpl } from "@flotilla/plugin-sdk";
import type { RegionListerService } from "@flotilla/protocol";

/** The only region of the local provider. */
export const LOCAL_REGION_ID = "local";

/** The RegionListerService implementation handed to `serve()`. */
export function localRegionLister(): ServiceImpl<typeof RegionListerService> {
  return {
    listRegions: () => ({
      regions: [{ id: LOCAL_REGION_ID, displayName: `this machine (${hostname()})`, available: true }],
    }),
  };
}
