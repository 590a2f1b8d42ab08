import { RegionListerService } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import { servePluginInProcess } from "./in-process.js";

describe("servePluginInProcess", () => {
  it("serves a definition in this process and gives typed clients; close() stops it", async () => {
    const plugin = await servePluginInProcess({
      name: "inproc",
      version: "1.0.0",
      provider: { configure: () => ({}) },
      regionLister: { listRegions: () => ({ regions: [{ id: "a" }, { id: "b" }] }) },
    });
    const regions = plugin.client(RegionListerService);
    expect((await regions.unary("listRegions", {})).regions.map((r) => r.id)).toEqual(["a", "b"]);
    await plugin.close();
    const after = (await import("./plugin-client.js")).pluginClient(plugin.server.handshake, RegionListerService);
    await expect(after.unary("listRegions", {}, { deadline: 2000 })).rejects.toMatchObject({ code: 14 });
    after.close();
  });
});
