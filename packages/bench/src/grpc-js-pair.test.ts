import { create } from "@bufbuild/protobuf";
import { DescribeRequestSchema, type DescribeResponse, IaCProviderService } from "@flotilla/protocol";
import { grpcServiceDefinition } from "@flotilla/protocol/wire";
import * as grpc from "@grpc/grpc-js";
import { afterAll, describe, expect, it } from "vitest";
import { connectGrpcJsClient, startGrpcJsServer } from "./grpc-js-pair.js";
import { benchDescribeResponse } from "./payload.js";
import { createSocketDir } from "./socket-dir.js";

const sockets = createSocketDir();
afterAll(() => sockets.remove());

describe("grpc-js pair", () => {
  it("serves the bench response to a grpc-js client and to the pair's own client", async () => {
    const path = sockets.socketPath("grpc-js");
    const server = await startGrpcJsServer(path);
    try {
      const Client = grpc.makeGenericClientConstructor(grpcServiceDefinition(IaCProviderService), "IaCProviderService");
      const direct = new Client(`unix:${path}`, grpc.credentials.createInsecure());
      const response = await new Promise<DescribeResponse>((resolve, reject) =>
        // biome-ignore lint/suspicious/noExplicitAny: generic grpc-js clients expose methods untyped.
        (direct as any).describe(create(DescribeRequestSchema), (error: Error | null, value: DescribeResponse) =>
          error ? reject(error) : resolve(value),
        ),
      );
      direct.close();
      expect(response.name).toBe(benchDescribeResponse.name);
      expect(response.capabilities).toEqual(benchDescribeResponse.capabilities);

      const client = await connectGrpcJsClient(path);
      for (let i = 0; i < 3; i++) await client.call();
      await client.close();
    } finally {
      await server.close();
    }
  });
});
