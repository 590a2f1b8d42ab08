import { RegionListerService } from "@flotilla/protocol";
import { describe, expect, it, onTestFinished, vi } from "vitest";
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

describe("servePluginInProcess, the details", () => {
  it("ignores the process environment, discards logs, and close() shuts every client's channel", async () => {
    vi.stubEnv("PLUGIN_MULTIPLEX_GRPC", "true");
    onTestFinished(() => {
      vi.unstubAllEnvs();
    });
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    onTestFinished(() => spy.mockRestore());
    const plugin = await servePluginInProcess({
      name: "inproc",
      version: "1.0.0",
      provider: { configure: () => ({}) },
      regionLister: { listRegions: () => ({ regions: [] }) },
      onShutdown: () => {
        throw new Error("logged nowhere");
      },
    });
    expect(plugin.server.handshake).not.toHaveProperty("multiplexSupported");
    const regions = plugin.client(RegionListerService);
    await regions.unary("listRegions", {});
    await plugin.close();
    spy.mockRestore();
    expect(written.join("")).not.toContain("logged nowhere");
    // 4 is grpc-js's ConnectivityState.SHUTDOWN.
    expect(regions.raw.getChannel().getConnectivityState(false)).toBe(4);
  });
});
