/**
 * Test helper: an in-process grpc-js server on a Unix socket serving the
 * contract's RegionLister and Runner with hand-written handlers, so the RPC
 * layer can be tested without a plugin process.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { grpcServiceDefinition, IaCProviderRunnerService, RegionListerService } from "@flotilla/protocol";
import * as grpc from "@grpc/grpc-js";

/** A running test server and a client connected to it. */
export interface TestServer {
  client: grpc.Client;
  /** Deadlines the server saw, per call, in arrival order (Infinity when none). */
  deadlines: number[];
  /** How many calls the server saw cancelled. */
  cancelled: number;
  close(): Promise<void>;
}

/** Handlers by method local name; anything not given answers UNIMPLEMENTED via grpc-js. */
export type Handlers = Record<string, (call: never, callback: never) => void>;

/** Starts the server with `regionLister` and `runner` handlers. */
export async function startTestServer(regionLister: Handlers, runner: Handlers = {}): Promise<TestServer> {
  const dir = mkdtempSync("/tmp/fl-rpc-");
  const server = new grpc.Server();
  const state = { deadlines: [] as number[], cancelled: 0 };
  const wrap = (handlers: Handlers): Handlers =>
    Object.fromEntries(
      Object.entries(handlers).map(([name, handler]) => [
        name,
        ((call: grpc.ServerUnaryCall<unknown, unknown>, callback?: grpc.sendUnaryData<unknown>) => {
          const deadline = call.getDeadline();
          state.deadlines.push(deadline instanceof Date ? deadline.getTime() : Number(deadline));
          call.on("cancelled", () => state.cancelled++);
          return (handler as (c: unknown, cb: unknown) => void)(call, callback);
        }) as grpc.UntypedHandleCall,
      ]),
    );
  server.addService(
    grpcServiceDefinition(RegionListerService),
    wrap(regionLister) as grpc.UntypedServiceImplementation,
  );
  server.addService(grpcServiceDefinition(IaCProviderRunnerService), wrap(runner) as grpc.UntypedServiceImplementation);
  const address = `unix:${dir}/s.sock`;
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return {
    client,
    get deadlines() {
      return state.deadlines;
    },
    get cancelled() {
      return state.cancelled;
    },
    async close() {
      client.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      server.forceShutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
