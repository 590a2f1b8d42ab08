import { Code, codeName, errorForCode, IaCProviderService, methodPath, RegionListerService } from "@flotilla/protocol";
import { credentials, Metadata, makeGenericClientConstructor, type ServiceError } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import type { HandlerContext, PluginDefinition } from "./definition.js";
import { createLogger } from "./logger.js";
import { type PluginServer, startPluginServer } from "./server.js";
import { grpcTarget, type PluginClient, pluginClient } from "./testing/plugin-client.js";

const servers: PluginServer[] = [];
const clients: { close(): void }[] = [];
const quietLogger = createLogger({ module: "test", write: () => {} });

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.shutdown()));
});

async function serveInProcess(definition: PluginDefinition, maxMessageBytes?: number): Promise<PluginServer> {
  const server = await startPluginServer(definition, {
    env: { PLUGIN_PROTOCOL_VERSIONS: "1" },
    logger: quietLogger,
    gracePeriodMs: 1000,
    ...(maxMessageBytes ? { maxMessageBytes } : {}),
  });
  servers.push(server);
  return server;
}

function providerClient(server: PluginServer): PluginClient<typeof IaCProviderService> {
  const c = pluginClient(server.handshake, IaCProviderService, {
    channelOptions: { "grpc.max_send_message_length": 64 * 1024 * 1024 },
  });
  clients.push(c);
  return c;
}

/** Every status code errors.ts knows, read from the enum so a new code cannot be forgotten. */
const allCodes = Object.values(Code).filter((v): v is Code => typeof v === "number");

describe("thrown errors", () => {
  it.each(allCodes.map((c) => [codeName(c), c] as const))(
    "%s (its class, or FlotillaError) thrown in a handler reaches the client with its code, message and metadata",
    async (_name, code) => {
      const server = await serveInProcess({
        name: "errors",
        version: "1.0.0",
        provider: {
          configure: () => {
            throw errorForCode(code, `boom ${code}`, { metadata: { "resource-id": "r-1" } });
          },
        },
      });
      const err = (await providerClient(server)
        .unary("configure", {})
        .catch((e) => e)) as ServiceError;
      expect(err.code).toBe(code);
      expect(err.details).toBe(`boom ${code}`);
      expect(err.metadata.get("resource-id")).toEqual(["r-1"]);
    },
  );

  it("a plain Error becomes INTERNAL with its message", async () => {
    const server = await serveInProcess({
      name: "errors",
      version: "1.0.0",
      provider: {
        configure: async () => {
          throw new TypeError("cannot read x of undefined");
        },
      },
    });
    await expect(providerClient(server).unary("configure", {})).rejects.toMatchObject({
      code: Code.Internal,
      details: "cannot read x of undefined",
    });
  });

  it("an error from a server-streaming handler ends the stream with its status", async () => {
    const { IaCProviderRunnerService, NotFoundError } = await import("@flotilla/protocol");
    const unused = async () => {
      throw new Error("not called");
    };
    const server = await serveInProcess({
      name: "streams",
      version: "1.0.0",
      provider: { configure: () => ({}) },
      runner: {
        runJob: unused,
        jobStatus: unused,
        batchJobStatus: unused,
        cancelJob: unused,
        async *jobLogs() {
          yield {};
          throw new NotFoundError("job j-1 does not exist");
        },
      },
    });
    const c = pluginClient(server.handshake, IaCProviderRunnerService);
    clients.push(c);
    const received: unknown[] = [];
    const err = await (async () => {
      for await (const item of c.serverStream("jobLogs", {})) received.push(item);
    })().catch((e) => e);
    expect(received).toHaveLength(1);
    expect(err).toMatchObject({ code: Code.NotFound, details: "job j-1 does not exist" });
  });
});

describe("the handler's AbortSignal", () => {
  function abortRecordingPlugin(seen: { reason?: string; context?: HandlerContext }): PluginDefinition {
    return {
      name: "abort",
      version: "1.0.0",
      provider: {
        configure: (_req, context) =>
          new Promise((_resolve, reject) => {
            seen.context = context;
            context.signal.addEventListener("abort", () => {
              seen.reason = (context.signal.reason as Error).message;
              reject(context.signal.reason);
            });
          }),
      },
    };
  }

  it("fires when the client cancels the call", async () => {
    const seen: { reason?: string } = {};
    const server = await serveInProcess(abortRecordingPlugin(seen));
    const abort = new AbortController();
    const call = providerClient(server).unary("configure", {}, { signal: abort.signal });
    await expect.poll(() => (seen as { context?: unknown }).context).toBeDefined();
    abort.abort();
    await expect(call).rejects.toMatchObject({ code: Code.Canceled });
    await expect.poll(() => seen.reason).toBe("the caller cancelled the call");
  });

  it("fires when the call's deadline passes, and the handler sees the deadline", async () => {
    const seen: { reason?: string; context?: HandlerContext } = {};
    const server = await serveInProcess(abortRecordingPlugin(seen));
    // 1.5 s leaves a loaded machine time to deliver the call before its deadline passes.
    const deadline = new Date(Date.now() + 1500);
    const call = providerClient(server).unary("configure", {}, { deadline });
    await expect(call).rejects.toMatchObject({ code: Code.DeadlineExceeded });
    await expect.poll(() => seen.reason).toMatch(/cancelled|deadline/);
    // The wire carries the deadline as a relative timeout, so the server's copy drifts by the
    // transit time; within 1 s still proves it is the caller's deadline and not a server default.
    expect(seen.context?.deadline, "the handler saw no deadline").toBeInstanceOf(Date);
    expect(Math.abs((seen.context?.deadline?.getTime() ?? 0) - deadline.getTime())).toBeLessThan(1000);
  });
});

describe("server streaming", () => {
  it("a producer blocked on flow control is released when the client cancels, and its generator is finalised", async () => {
    const { IaCProviderRunnerService } = await import("@flotilla/protocol");
    const unused = async () => {
      throw new Error("not called");
    };
    let finalised = false;
    let yielded = 0;
    const server = await serveInProcess({
      name: "flow",
      version: "1.0.0",
      provider: { configure: () => ({}) },
      runner: {
        runJob: unused,
        jobStatus: unused,
        batchJobStatus: unused,
        cancelJob: unused,
        async *jobLogs() {
          try {
            const text = "x".repeat(256 * 1024);
            for (;;) {
              yielded++;
              yield { lines: [{ text }] };
            }
          } finally {
            finalised = true;
          }
        },
      },
    });
    const c = pluginClient(server.handshake, IaCProviderRunnerService);
    clients.push(c);
    const abort = new AbortController();
    const stream = c.serverStream("jobLogs", {}, { signal: abort.signal });
    // Read one message, then stop reading so the server hits flow control.
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    await expect.poll(() => yielded, { timeout: 10_000 }).toBeGreaterThan(2);
    abort.abort();
    await expect.poll(() => finalised, { timeout: 10_000 }).toBe(true);
  });
});

describe("requests the plugin cannot take", () => {
  it("an oversized request fails with RESOURCE_EXHAUSTED and the plugin keeps serving", async () => {
    const server = await serveInProcess(
      {
        name: "sizes",
        version: "1.0.0",
        provider: { configure: () => ({}) },
        regionLister: { listRegions: () => ({ regions: [{ id: "r" }] }) },
      },
      1024 * 1024,
    );
    const c = providerClient(server);
    await expect(c.unary("configure", { configJson: new Uint8Array(2 * 1024 * 1024) })).rejects.toMatchObject({
      code: Code.ResourceExhausted,
    });
    await expect(c.unary("configure", { configJson: new Uint8Array(1000) })).resolves.toBeDefined();
  });

  it("a default server accepts 15 MiB and refuses 17 MiB", async () => {
    const server = await serveInProcess({ name: "sizes", version: "1.0.0", provider: { configure: () => ({}) } });
    const c = providerClient(server);
    await expect(c.unary("configure", { configJson: new Uint8Array(15 * 1024 * 1024) })).resolves.toBeDefined();
    await expect(c.unary("configure", { configJson: new Uint8Array(17 * 1024 * 1024) })).rejects.toMatchObject({
      code: Code.ResourceExhausted,
    });
  });

  it("an oversized response fails the call with RESOURCE_EXHAUSTED instead of hanging", async () => {
    const big = new Uint8Array(17 * 1024 * 1024);
    const server = await serveInProcess({
      name: "sizes",
      version: "1.0.0",
      provider: { configure: () => ({}) },
      runner: {
        runJob: () => ({}),
        jobStatus: () => ({}),
        batchJobStatus: () => ({}),
        cancelJob: () => ({}),
        async *jobLogs() {
          yield { lines: [{ text: "x".repeat(big.byteLength) }] };
        },
      },
    });
    const { IaCProviderRunnerService } = await import("@flotilla/protocol");
    const c = pluginClient(server.handshake, IaCProviderRunnerService, {
      channelOptions: { "grpc.max_receive_message_length": 64 * 1024 * 1024 },
    });
    clients.push(c);
    const err = await (async () => {
      for await (const _ of c.serverStream("jobLogs", {}, { deadline: 20_000 })) {
        // No message is expected.
      }
    })().catch((e) => e);
    expect(err).toMatchObject({ code: Code.ResourceExhausted });
  });

  it("a malformed protobuf request is INVALID_ARGUMENT naming the message type, and the plugin keeps serving", async () => {
    const server = await serveInProcess({
      name: "malformed",
      version: "1.0.0",
      provider: { configure: () => ({}) },
      regionLister: { listRegions: () => ({ regions: [{ id: "still-here" }] }) },
    });
    // A client that sends raw bytes, bypassing protobuf encoding.
    const method = RegionListerService.method.listRegions;
    const RawClient = makeGenericClientConstructor(
      {
        listRegions: {
          path: methodPath(method),
          requestStream: false,
          responseStream: false,
          requestSerialize: (b: Buffer) => b,
          requestDeserialize: (b: Buffer) => b,
          responseSerialize: (b: Buffer) => b,
          responseDeserialize: (b: Buffer) => b,
        },
      },
      "raw",
    );
    const raw = new RawClient(grpcTarget(server.handshake), credentials.createInsecure());
    clients.push(raw);
    const garbage = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    const err = await new Promise<ServiceError>((resolve) => {
      (raw as unknown as Record<string, (...a: unknown[]) => void>).listRegions?.(
        garbage,
        new Metadata(),
        (e: ServiceError) => resolve(e),
      );
    });
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.details).toContain("flotilla.plugin.v1.ListRegionsRequest");
    const c = pluginClient(server.handshake, RegionListerService);
    clients.push(c);
    expect((await c.unary("listRegions", {})).regions[0]?.id).toBe("still-here");
  });
});

describe("responses", () => {
  it("a handler may return a plain object or nothing; both become the response message", async () => {
    const server = await serveInProcess({
      name: "plain",
      version: "1.0.0",
      provider: { configure: () => undefined as never, describe: () => ({ name: "custom", capabilities: ["x"] }) },
    });
    const c = providerClient(server);
    await expect(c.unary("configure", {})).resolves.toMatchObject({
      $typeName: "flotilla.plugin.v1.ConfigureResponse",
    });
    await expect(c.unary("describe", {})).resolves.toMatchObject({ name: "custom", capabilities: ["x"] });
  });
});
