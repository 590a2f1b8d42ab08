/**
 * @connectrpc/connect-node's gRPC transport and its server adapter, with the
 * client options the transport study varies (docs/transport.md).
 */
import * as http2 from "node:http2";
import * as net from "node:net";
import { create } from "@bufbuild/protobuf";
import { type Client, createClient, type Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter, createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { DescribeRequestSchema, IaCProviderService } from "@flotilla/protocol";
import { benchDescribeResponse } from "./payload.js";
import type { RunningServer } from "./raw-http2.js";

/** Starts an http2 server with connectNodeAdapter serving IaCProviderService/Describe on `socketPath`. */
export async function startConnectServer(socketPath: string): Promise<RunningServer> {
  const handler = connectNodeAdapter({
    routes: (router) => router.rpc(IaCProviderService.method.describe, () => benchDescribeResponse),
  });
  const server = http2.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, resolve);
  });
  return { close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The connect-node client variants the transport study compares. */
export const connectClientVariants = [
  "default",
  "socket-path",
  "no-accept-compression",
  "interceptor",
  "timeout",
  "session-manager",
] as const;

/** One of {@link connectClientVariants}. */
export type ConnectClientVariant = (typeof connectClientVariants)[number];

function transportFor(socketPath: string, variant: ConnectClientVariant) {
  const createConnection = () => net.connect(socketPath);
  const base = { baseUrl: "http://localhost", nodeOptions: { createConnection } };
  switch (variant) {
    case "default":
      return createGrpcTransport(base);
    case "socket-path":
      // http2.connect spreads its options into net.connect, so `path` alone
      // also reaches the Unix socket.
      return createGrpcTransport({ baseUrl: "http://localhost", nodeOptions: { path: socketPath } as never });
    case "no-accept-compression":
      return createGrpcTransport({ ...base, acceptCompression: [] });
    case "interceptor": {
      const passThrough: Interceptor = (next) => (request) => next(request);
      return createGrpcTransport({ ...base, interceptors: [passThrough] });
    }
    case "timeout":
      return createGrpcTransport({ ...base, defaultTimeoutMs: 30_000 });
    case "session-manager":
      return createGrpcTransport({
        baseUrl: "http://localhost",
        sessionManager: new Http2SessionManager("http://localhost", { pingIntervalMs: 60_000 }, { createConnection }),
      });
  }
}

/** A connect-node gRPC-transport client for `socketPath`, calling Describe. */
export async function connectConnectClient(
  socketPath: string,
  variant: ConnectClientVariant = "default",
): Promise<{ call(): Promise<void>; close(): Promise<void> }> {
  const client: Client<typeof IaCProviderService> = createClient(IaCProviderService, transportFor(socketPath, variant));
  const request = create(DescribeRequestSchema);
  const call = async () => {
    await client.describe(request);
  };
  await call();
  // The transport owns its session; it closes itself when idle and does not
  // keep the process alive, so there is nothing to release here.
  return { call, close: async () => {} };
}
