import * as net from "node:net";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { IaCProviderService } from "@flotilla/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { connectClientVariants, connectConnectClient, startConnectServer } from "./connect-pair.js";
import { startGrpcJsServer } from "./grpc-js-pair.js";
import { benchDescribeResponse } from "./payload.js";
import { createSocketDir } from "./socket-dir.js";

const sockets = createSocketDir();
afterAll(() => sockets.remove());

describe("connect pair", () => {
  it("serves the bench response over connect-node's gRPC transport", async () => {
    const path = sockets.socketPath("connect");
    const server = await startConnectServer(path);
    try {
      const transport = createGrpcTransport({
        baseUrl: "http://localhost",
        nodeOptions: { createConnection: () => net.connect(path) },
      });
      const response = await createClient(IaCProviderService, transport).describe({});
      expect(response.name).toBe(benchDescribeResponse.name);
      expect(response.capabilities).toEqual(benchDescribeResponse.capabilities);
    } finally {
      await server.close();
    }
  });

  it("reaches a grpc-js server with every client variant the study compares", async () => {
    const path = sockets.socketPath("interop");
    const server = await startGrpcJsServer(path);
    const reached: string[] = [];
    try {
      for (const variant of connectClientVariants) {
        const client = await connectConnectClient(path, variant);
        await expect(client.call(), variant).resolves.toBeUndefined();
        await client.close();
        reached.push(variant);
      }
    } finally {
      await server.close();
    }
    expect(reached).toEqual([...connectClientVariants]);
    // With the server gone every variant must fail: proof that the calls above really went to it.
    for (const variant of connectClientVariants) {
      await expect(connectConnectClient(path, variant), variant).rejects.toThrow();
    }
  });
});
