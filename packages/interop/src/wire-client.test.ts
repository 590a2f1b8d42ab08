import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import {
  IaCProviderRunnerService,
  JobLogsResponseSchema,
  ListRegionsResponseSchema,
  RegionListerService,
} from "@flotilla/protocol";
import { grpcServiceDefinition } from "@flotilla/protocol/wire";
import { credentials, Server, ServerCredentials, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WireClient } from "./wire-client.js";

describe("WireClient", () => {
  let dir = "";
  let server: Server;
  let client: WireClient;

  beforeAll(async () => {
    dir = await mkdtemp("/tmp/flotilla-wire-");
    server = new Server();
    server.addService(grpcServiceDefinition(RegionListerService), {
      // biome-ignore lint/suspicious/noExplicitAny: grpc-js handler types are untyped.
      listRegions: (_call: any, callback: any) => callback(null, create(ListRegionsResponseSchema, { regions: [] })),
    });
    server.addService(grpcServiceDefinition(IaCProviderRunnerService), {
      // biome-ignore lint/suspicious/noExplicitAny: grpc-js handler types are untyped.
      jobLogs: (call: any) => {
        for (const text of ["one", "two"]) call.write(create(JobLogsResponseSchema, { lines: [{ text }] }));
        call.end();
      },
    });
    const socket = join(dir, "s");
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`unix:${socket}`, ServerCredentials.createInsecure(), (error) =>
        error ? reject(error) : resolve(),
      ),
    );
    client = new WireClient(`unix:${socket}`, credentials.createInsecure());
  });

  afterAll(async () => {
    client?.close();
    server?.forceShutdown();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("makes unary calls with generated descriptors", async () => {
    const response = await client.unary(RegionListerService.method.listRegions, {});
    expect(response.$typeName).toBe("flotilla.plugin.v1.ListRegionsResponse");
    expect(response.regions).toEqual([]);
  });

  it("reads server streams", async () => {
    const received: string[] = [];
    for await (const chunk of client.serverStream(IaCProviderRunnerService.method.jobLogs, {})) {
      for (const line of chunk.lines) received.push(line.text);
    }
    expect(received).toEqual(["one", "two"]);
  });

  it("fails a call the server does not serve with its gRPC status", async () => {
    await expect(client.unary(IaCProviderRunnerService.method.runJob, {})).rejects.toMatchObject({
      code: status.UNIMPLEMENTED,
    });
  });
});
