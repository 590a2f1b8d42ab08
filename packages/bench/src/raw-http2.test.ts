import * as http2 from "node:http2";
import * as net from "node:net";
import { toBinary } from "@bufbuild/protobuf";
import { DescribeResponseSchema } from "@flotilla/protocol";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { benchDescribeResponse, emptyRequestFrame, grpcFrame } from "./payload.js";
import { connectRawHttp2Client, type RunningServer, startRawHttp2Server } from "./raw-http2.js";
import { createSocketDir } from "./socket-dir.js";

const sockets = createSocketDir();
let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});
afterAll(() => sockets.remove());

describe("raw HTTP/2 floor", () => {
  it("answers with exactly the framed 64-byte bench response", async () => {
    const path = sockets.socketPath("raw-bytes");
    server = await startRawHttp2Server(path);
    const session = http2.connect("http://localhost", { createConnection: () => net.connect(path) });
    const body = await new Promise<Buffer>((resolve, reject) => {
      const stream = session.request({ ":method": "POST", ":path": "/x" });
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => resolve(Buffer.concat(chunks)));
      stream.on("error", reject);
      stream.end(emptyRequestFrame);
    });
    session.close();
    expect(body.equals(grpcFrame(toBinary(DescribeResponseSchema, benchDescribeResponse)))).toBe(true);
  });

  it("lets its own client make repeated round trips on one session", async () => {
    // A counting server stands in for startRawHttp2Server (tested above) to see what the client sends.
    const path = sockets.socketPath("raw-client");
    const counting = http2.createServer();
    let sessions = 0;
    const paths: string[] = [];
    counting.on("session", () => sessions++);
    counting.on("stream", (stream, headers) => {
      paths.push(String(headers[":path"]));
      stream.resume();
      stream.on("end", () => {
        stream.respond({ ":status": 200, "content-type": "application/grpc" });
        stream.end(grpcFrame(toBinary(DescribeResponseSchema, benchDescribeResponse)));
      });
    });
    await new Promise<void>((resolve) => counting.listen(path, resolve));
    server = { close: () => new Promise((resolve) => counting.close(() => resolve())) };
    const client = await connectRawHttp2Client(path);
    for (let i = 0; i < 5; i++) await client.call();
    await client.close();
    expect(paths).toEqual(Array(5).fill("/flotilla.plugin.v1.IaCProviderService/Describe"));
    expect(sessions).toBe(1);
  });
});
