import { HEALTH_SERVICE_NAME, health, OptionalServiceName } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import { servePluginInProcess } from "./testing/in-process.js";

const { HealthCheckResponse_ServingStatus: Status } = health;

describe("grpc.health.v1.Health", () => {
  it("reports SERVING for 'plugin', '' and each served service, NOT_FOUND for others", async () => {
    const plugin = await servePluginInProcess({
      name: "h",
      version: "1.0.0",
      provider: { configure: () => ({}) },
      regionLister: { listRegions: () => ({}) },
    });
    try {
      const h = plugin.client(health.Health);
      for (const service of [HEALTH_SERVICE_NAME, "", OptionalServiceName.regionLister]) {
        expect((await h.unary("check", { service })).status).toBe(Status.SERVING);
      }
      await expect(h.unary("check", { service: OptionalServiceName.runner })).rejects.toMatchObject({ code: 5 });
    } finally {
      await plugin.close();
    }
  });

  it("Watch sends SERVING, then NOT_SERVING and ends when the plugin shuts down", async () => {
    const plugin = await servePluginInProcess({ name: "h", version: "1.0.0", provider: { configure: () => ({}) } });
    const statuses: number[] = [];
    const watching = (async () => {
      for await (const r of plugin.client(health.Health).serverStream("watch", { service: HEALTH_SERVICE_NAME })) {
        statuses.push(r.status);
      }
    })();
    await expect.poll(() => statuses).toEqual([Status.SERVING]);
    expect(await plugin.server.shutdown()).toBe(true);
    await watching;
    expect(statuses).toEqual([Status.SERVING, Status.NOT_SERVING]);
    await plugin.close();
  });
});
