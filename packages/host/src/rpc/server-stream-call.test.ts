import { create } from "@bufbuild/protobuf";
import { IaCProviderRunnerService, JobLogsResponseSchema, UnavailableError } from "@flotilla/protocol";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./fixtures/test-server.js";
import { serverStreamCall } from "./server-stream-call.js";

let server: TestServer;

type StreamCall = {
  request: { follow: boolean; cursor: string };
  write(m: unknown): boolean;
  end(): void;
  emit(e: string, v: unknown): boolean;
  on(e: string, f: () => void): void;
};

beforeAll(async () => {
  server = await startTestServer(
    {},
    {
      jobLogs: (call: StreamCall) => {
        for (let i = 1; i <= 3; i++) call.write(create(JobLogsResponseSchema, { lines: [{ text: `l${i}` }] }));
        if (call.request.cursor === "fail") {
          call.emit("error", { code: status.UNAVAILABLE, details: "log backend down" });
        } else if (call.request.follow) {
          const timer = setInterval(() => call.write(create(JobLogsResponseSchema, { lines: [{ text: "more" }] })), 20);
          call.on("cancelled", () => clearInterval(timer));
        } else {
          call.end();
        }
      },
    },
  );
});

afterAll(() => server.close());

const method = IaCProviderRunnerService.method.jobLogs;

describe("serverStreamCall", () => {
  it("yields every message until the stream ends", async () => {
    const texts: string[] = [];
    for await (const chunk of serverStreamCall(server.client, method, {})) texts.push(chunk.lines[0]?.text ?? "");
    expect(texts).toEqual(["l1", "l2", "l3"]);
  });

  it("throws the mapped error after the messages sent before it", async () => {
    const texts: string[] = [];
    const err = await (async () => {
      for await (const chunk of serverStreamCall(server.client, method, { cursor: "fail" })) {
        texts.push(chunk.lines[0]?.text ?? "");
      }
    })().catch((e: unknown) => e);
    expect(texts).toEqual(["l1", "l2", "l3"]);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toBe("log backend down");
  });

  it("cancels the call on the server when the consumer stops early", async () => {
    const before = server.cancelled;
    let n = 0;
    for await (const _ of serverStreamCall(server.client, method, { follow: true })) if (++n === 5) break;
    // The cancel reaches the server asynchronously: wait for it rather than for a fixed time.
    await expect.poll(() => server.cancelled, { timeout: 10_000 }).toBe(before + 1);
  });
});
