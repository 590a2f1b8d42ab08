/**
 * @grpc/grpc-js on both sides, with protobuf-es doing the encoding through
 * @flotilla/protocol's grpcServiceDefinition: the combination the host and
 * SDK default to.
 */
import { create } from "@bufbuild/protobuf";
import { DescribeRequestSchema, IaCProviderService } from "@flotilla/protocol";
import { grpcServiceDefinition } from "@flotilla/protocol/wire";
import * as grpc from "@grpc/grpc-js";
import { benchDescribeResponse } from "./payload.js";
import type { RunningServer } from "./raw-http2.js";

const definition = grpcServiceDefinition(IaCProviderService);

/** Starts a grpc-js server serving IaCProviderService/Describe on `socketPath`. */
export async function startGrpcJsServer(socketPath: string): Promise<RunningServer> {
  const server = new grpc.Server();
  server.addService(definition, {
    describe: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(null, benchDescribeResponse),
    configure: (_call: unknown, callback: grpc.sendUnaryData<unknown>) =>
      callback({ code: grpc.status.UNIMPLEMENTED, details: "the bench serves Describe only" }),
  });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix:${socketPath}`, grpc.ServerCredentials.createInsecure(), (error) =>
      error ? reject(error) : resolve(),
    ),
  );
  return { close: () => new Promise((resolve) => server.tryShutdown(() => resolve())) };
}

/** A grpc-js client for `socketPath`, calling Describe. */
export async function connectGrpcJsClient(
  socketPath: string,
): Promise<{ call(): Promise<void>; close(): Promise<void> }> {
  const Client = grpc.makeGenericClientConstructor(definition, "IaCProviderService");
  const client = new Client(`unix:${socketPath}`, grpc.credentials.createInsecure());
  await new Promise<void>((resolve, reject) =>
    client.waitForReady(Date.now() + 10_000, (error) => (error ? reject(error) : resolve())),
  );
  const request = create(DescribeRequestSchema);
  // biome-ignore lint/suspicious/noExplicitAny: generic grpc-js clients expose methods untyped.
  const describe = (client as any).describe.bind(client) as (req: unknown, cb: (error: Error | null) => void) => void;
  const call = () =>
    new Promise<void>((resolve, reject) => describe(request, (error) => (error ? reject(error) : resolve())));
  const close = async () => client.close();
  return { call, close };
}
