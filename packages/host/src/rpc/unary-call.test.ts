import { create } from "@bufbuild/protobuf";
import {
  CanceledError,
  DeadlineExceededError,
  ListRegionsResponseSchema,
  NotFoundError,
  RegionListerService,
} from "@flotilla/protocol";
import { Metadata, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./fixtures/test-server.js";
import { unaryCall } from "./unary-call.js";

let server: TestServer;
let mode = "ok";

beforeAll(async () => {
  server = await startTestServer({
    listRegions: (call: { on(e: string, f: () => void): void }, callback: (err: unknown, res?: unknown) => void) => {
      if (mode === "ok") callback(null, create(ListRegionsResponseSchema, { regions: [{ id: "r1" }] }));
      if (mode === "not-found") {
        const md = new Metadata();
        md.set("resource", "r9");
        callback({ code: status.NOT_FOUND, details: "region r9 not found", metadata: md });
      }
      // "hang": never answers; the client's deadline or signal ends the call.
      if (mode === "hang") call.on("cancelled", () => {});
    },
  });
});

afterAll(() => server.close());

describe("unaryCall", () => {
  it("sends a request and decodes the response as a protobuf-es message", async () => {
    mode = "ok";
    const res = await unaryCall(server.client, RegionListerService.method.listRegions, {});
    expect(res.$typeName).toBe("flotilla.plugin.v1.ListRegionsResponse");
    expect(res.regions[0]?.id).toBe("r1");
  });

  it("maps a status to its error class with the status error as cause", async () => {
    mode = "not-found";
    const err = await unaryCall(server.client, RegionListerService.method.listRegions, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).message).toBe("region r9 not found");
    expect((err as NotFoundError).metadata).toEqual({ resource: "r9" });
    expect((err as { cause: { code: number } }).cause.code).toBe(status.NOT_FOUND);
  });

  it("sends the deadline to the server and fails with DeadlineExceeded when it passes", async () => {
    mode = "hang";
    const before = Date.now();
    const err = await unaryCall(server.client, RegionListerService.method.listRegions, {}, { timeoutMs: 300 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DeadlineExceededError);
    const seen = server.deadlines.at(-1) as number;
    expect(seen).toBeGreaterThan(before);
    expect(seen).toBeLessThan(before + 5000);
  });

  it("cancels the call when the signal aborts, and refuses to start with an aborted signal", async () => {
    mode = "hang";
    const controller = new AbortController();
    const call = unaryCall(server.client, RegionListerService.method.listRegions, {}, { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await expect(call).rejects.toBeInstanceOf(CanceledError);
    await expect(
      unaryCall(server.client, RegionListerService.method.listRegions, {}, { signal: AbortSignal.abort() }),
    ).rejects.toThrow(/cancelled before it started/);
  });
});
