import { EventEmitter } from "node:events";
import { OptionalServiceName } from "@flotilla/protocol";
import { HEALTH_SERVICE_NAME, health } from "@flotilla/protocol/wire";
import { describe, expect, it } from "vitest";
import { HealthService } from "./health.js";
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

describe("HealthService with stand-in calls", () => {
  const fakeWatch = (service: string) => {
    const call = Object.assign(new EventEmitter(), {
      request: { service },
      statuses: [] as number[],
      ended: 0,
      write(message: { status: number }) {
        call.statuses.push(message.status);
        return true;
      },
      end() {
        call.ended++;
      },
    });
    return call;
  };
  const check = (service: HealthService, name: string) =>
    new Promise<{ err: { code: number; details: string } | null; status?: number }>((resolve) =>
      (service.handlers().check as (c: unknown, cb: (e: never, v?: { status: number }) => void) => void)(
        { request: { service: name } },
        (err, value) => resolve({ err, status: value?.status }),
      ),
    );
  const watch = (service: HealthService, call: ReturnType<typeof fakeWatch>) =>
    (service.handlers().watch as (c: unknown) => void)(call);

  it("names an unknown service, and reports NOT_SERVING once shutting down", async () => {
    const service = new HealthService(["x.Service"]);
    expect(await check(service, "x.Service")).toEqual({ err: null, status: Status.SERVING });
    expect((await check(service, "y.Service")).err).toMatchObject({ code: 5, details: 'unknown service "y.Service"' });
    service.markShuttingDown();
    expect(await check(service, "x.Service")).toEqual({ err: null, status: Status.NOT_SERVING });
  });

  it("ends each Watch once on shutdown, and a Watch started afterwards at once", () => {
    const service = new HealthService([]);
    const early = fakeWatch("");
    const unknown = fakeWatch("nope");
    watch(service, early);
    watch(service, unknown);
    expect(early.statuses).toEqual([Status.SERVING]);
    expect(unknown.statuses).toEqual([Status.SERVICE_UNKNOWN]);
    service.markShuttingDown();
    service.markShuttingDown();
    expect(early).toMatchObject({ statuses: [Status.SERVING, Status.NOT_SERVING], ended: 1 });
    const late = fakeWatch("");
    watch(service, late);
    expect(late).toMatchObject({ statuses: [Status.NOT_SERVING], ended: 1 });
    service.markShuttingDown();
    expect(late.statuses).toHaveLength(1);
  });

  it("forgets a Watch the client cancelled", () => {
    const service = new HealthService([]);
    const gone = fakeWatch("");
    watch(service, gone);
    gone.emit("cancelled");
    service.markShuttingDown();
    expect(gone).toMatchObject({ statuses: [Status.SERVING], ended: 0 });
  });
});
