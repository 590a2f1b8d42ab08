import { goplugin } from "@flotilla/protocol/wire";
import { describe, expect, it } from "vitest";
import { servePluginInProcess } from "./testing/in-process.js";

describe("plugin.GRPCController/Shutdown", () => {
  it("answers the caller, then shuts the server down with reason 'controller'", async () => {
    const plugin = await servePluginInProcess({ name: "c", version: "1.0.0", provider: { configure: () => ({}) } });
    try {
      await expect(plugin.client(goplugin.GRPCController).unary("shutdown", {})).resolves.toBeDefined();
      await expect(plugin.server.closed).resolves.toBe("controller");
    } finally {
      await plugin.close();
    }
  });
});
