/**
 * The floor every transport is compared with: one bare node:http2 request and
 * response carrying the same bytes as a Describe call (a 5-byte empty request
 * frame up, a 69-byte framed response down), with no RPC library on either
 * side and no trailers.
 */
import * as http2 from "node:http2";
import * as net from "node:net";
import { toBinary } from "@bufbuild/protobuf";
import { DescribeResponseSchema, IaCProviderService } from "@flotilla/protocol";
import { methodPath } from "@flotilla/protocol/wire";
import { benchDescribeResponse, emptyRequestFrame, grpcFrame } from "./payload.js";

const describePath = methodPath(IaCProviderService.method.describe);

/** A listening raw HTTP/2 server; `close` stops it. */
export interface RunningServer {
  close(): Promise<void>;
}

/** Starts a node:http2 server on `socketPath` that answers every request with the framed bench response. */
export async function startRawHttp2Server(socketPath: string): Promise<RunningServer> {
  const responseBody = grpcFrame(toBinary(DescribeResponseSchema, benchDescribeResponse));
  const server = http2.createServer();
  server.on("stream", (stream) => {
    // Answer once the request body is fully read, as a unary RPC server does.
    stream.resume();
    stream.on("end", () => {
      stream.respond({ ":status": 200, "content-type": "application/grpc" });
      stream.end(responseBody);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, resolve);
  });
  return { close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A raw HTTP/2 client on one session to `socketPath`. */
export async function connectRawHttp2Client(
  socketPath: string,
): Promise<{ call(): Promise<void>; close(): Promise<void> }> {
  const session = http2.connect("http://localhost", { createConnection: () => net.connect(socketPath) });
  await new Promise<void>((resolve, reject) => {
    session.once("connect", () => resolve());
    session.once("error", reject);
  });
  const call = () =>
    new Promise<void>((resolve, reject) => {
      const stream = session.request({
        ":method": "POST",
        ":path": describePath,
        "content-type": "application/grpc",
        te: "trailers",
      });
      stream.on("error", reject);
      stream.on("data", () => {});
      stream.on("end", () => resolve());
      stream.end(emptyRequestFrame);
    });
  const close = () => new Promise<void>((resolve) => session.close(() => resolve()));
  return { call, close };
}
