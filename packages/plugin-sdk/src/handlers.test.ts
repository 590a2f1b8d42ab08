import { EventEmitter, once } from "node:events";
import {
  Code,
  codeName,
  errorForCode,
  type FlotillaError,
  IaCProviderRunnerService,
  IaCProviderService,
  NotFoundError,
  RegionListerService,
} from "@flotilla/protocol";
import { methodPath, pluginTarget } from "@flotilla/protocol/wire";
import { credentials, Metadata, makeGenericClientConstructor, type ServiceError } from "@grpc/grpc-js";
import { afterEach, describe, expect, it, onTestFinished, vi } from "vitest";
import type { HandlerContext, PluginDefinition } from "./definition.js";
import { serviceError, wrapHandlers } from "./handlers.js";
import { createLogger } from "./logger.js";
import { type PluginServer, startPluginServer } from "./server.js";
import { type PluginClient, pluginClient } from "./testing/plugin-client.js";

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
        .catch((e) => e)) as FlotillaError;
      // The test kit raises what a host raises: the class of the code, message and metadata from the wire.
      expect(err).toBeInstanceOf(errorForCode(code, "").constructor);
      expect(err.code).toBe(code);
      expect(err.message).toBe(`boom ${code}`);
      expect(err.metadata).toEqual({ "resource-id": "r-1" });
      const wire = err.cause as ServiceError;
      expect(wire.details).toBe(`boom ${code}`);
      expect(wire.metadata.get("resource-id")).toEqual(["r-1"]);
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
      message: "cannot read x of undefined",
    });
  });

  it("an error from a server-streaming handler ends the stream with its status", async () => {
    const { NotFoundError } = await import("@flotilla/protocol");
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
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err).toMatchObject({ code: Code.NotFound, message: "job j-1 does not exist" });
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
    const raw = new RawClient(pluginTarget(server.handshake), credentials.createInsecure());
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

/**
 * The wrapped handlers driven with a stand-in for grpc-js's call object, so what they do with the call
 * (listeners attached and removed, end, error) and with the handler's signal is visible in-process.
 */
describe("wrapHandlers with a stand-in call", () => {
  type FakeCall = EventEmitter & {
    request: Buffer;
    metadata: Metadata;
    cancelled: boolean;
    ended: number;
    errors: unknown[];
    written: unknown[];
    writeReturns: boolean;
    getDeadline(): Date | number;
    write(message: unknown): boolean;
    end(): void;
  };

  function fakeCall(deadline: Date | number = Number.POSITIVE_INFINITY, request = Buffer.alloc(0)): FakeCall {
    const call = Object.assign(new EventEmitter(), {
      request,
      metadata: new Metadata(),
      cancelled: false,
      ended: 0,
      errors: [] as unknown[],
      written: [] as unknown[],
      writeReturns: true,
      getDeadline: () => deadline,
      write(message: unknown) {
        call.written.push(message);
        return call.writeReturns;
      },
      end() {
        call.ended++;
      },
    });
    call.on("error", (err) => call.errors.push(err));
    return call;
  }

  /** A shutdown signal whose listeners can be counted. */
  function countingShutdown() {
    const controller = new AbortController();
    let listeners = 0;
    const signal = controller.signal;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((...args: Parameters<AbortSignal["addEventListener"]>) => {
      if (args[0] === "abort") listeners++;
      add(...args);
    }) as AbortSignal["addEventListener"];
    signal.removeEventListener = ((...args: Parameters<AbortSignal["removeEventListener"]>) => {
      if (args[0] === "abort") listeners--;
      remove(...args);
    }) as AbortSignal["removeEventListener"];
    return { controller, signal, listeners: () => listeners };
  }

  const env = (shutdownSignal = new AbortController().signal) => ({ shutdownSignal, logger: quietLogger });

  function unaryCall(
    listRegions: (request: unknown, context: HandlerContext) => unknown,
    call: FakeCall,
    environment = env(),
  ): Promise<{ err: ServiceError | null; value: unknown }> {
    const impl = wrapHandlers(RegionListerService, { listRegions } as never, environment);
    return new Promise((resolve) => {
      (impl.listRegions as (c: unknown, cb: (err: ServiceError | null, value?: unknown) => void) => void)(
        call,
        (err, value) => resolve({ err, value }),
      );
    });
  }

  async function* nothing() {}
  const runnerHandlers = (jobLogs: (request: unknown, context: HandlerContext) => AsyncIterable<unknown>) => ({
    runJob: () => ({}),
    jobStatus: () => ({}),
    batchJobStatus: () => ({}),
    cancelJob: () => ({}),
    jobLogs,
  });

  function streamCall(
    jobLogs: (request: unknown, context: HandlerContext) => AsyncIterable<unknown>,
    call: FakeCall,
    environment = env(),
  ): void {
    const impl = wrapHandlers(IaCProviderRunnerService, runnerHandlers(jobLogs) as never, environment);
    (impl.jobLogs as (c: unknown) => void)(call);
  }

  it("serviceError lower-cases metadata keys and skips binary ones", () => {
    const err = serviceError(Code.NotFound, "gone", { "Resource-ID": "r-1", "trace-bin": "x", "bin-ok": "y" });
    expect(err).toMatchObject({ code: Code.NotFound, details: "gone", message: "gone" });
    expect(err.metadata?.getMap()).toEqual({ "resource-id": "r-1", "bin-ok": "y" });
  });

  it("gives the handler the call's metadata and deadline, and a signal that the shutdown aborts", async () => {
    const shutdown = countingShutdown();
    const deadline = new Date(Date.now() + 60_000);
    const call = fakeCall(deadline);
    call.metadata.set("x-who", "me");
    let seen: HandlerContext | undefined;
    const done = unaryCall(
      (_request, context) => {
        seen = context;
        return new Promise((_resolve, reject) =>
          context.signal.addEventListener("abort", () => reject(context.signal.reason)),
        );
      },
      call,
      env(shutdown.signal),
    );
    await expect.poll(() => seen).toBeDefined();
    expect(seen?.metadata).toEqual({ "x-who": "me" });
    expect(seen?.deadline?.getTime()).toBe(deadline.getTime());
    expect(call.listenerCount("cancelled")).toBe(1);
    expect(shutdown.listeners()).toBe(1);
    shutdown.controller.abort();
    const { err } = await done;
    expect((seen?.signal.reason as Error | undefined)?.message).toBe("the plugin is shutting down");
    expect(err?.details).toBe("the plugin is shutting down");
    // The call's listeners are gone once it has answered.
    expect(call.listenerCount("cancelled")).toBe(0);
    expect(shutdown.listeners()).toBe(0);
  });

  it("a call that starts after the shutdown ran out of time has its signal aborted at once", async () => {
    const shutdown = new AbortController();
    shutdown.abort();
    const { value } = await unaryCall(
      (_request, context) => ({ regions: [{ id: (context.signal.reason as Error).message }] }),
      fakeCall(),
      env(shutdown.signal),
    );
    expect((value as { regions: { id: string }[] }).regions[0]?.id).toBe("the plugin is shutting down");
  });

  it("a numeric deadline becomes a Date; an infinite one is no deadline", async () => {
    const at = Date.now() + 60_000;
    const deadlines: (number | undefined)[] = [];
    const record = (_request: unknown, context: HandlerContext) => {
      deadlines.push(context.deadline?.getTime());
      return {};
    };
    await unaryCall(record, fakeCall(at));
    await unaryCall(record, fakeCall(Number.POSITIVE_INFINITY));
    expect(deadlines).toEqual([at, undefined]);
  });

  it("aborts the signal when the deadline passes, and never after the call has answered", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    let aborted: AbortSignal | undefined;
    const pending = unaryCall(
      (_request, context) => {
        aborted = context.signal;
        return new Promise((_resolve, reject) =>
          context.signal.addEventListener("abort", () => reject(context.signal.reason)),
        );
      },
      fakeCall(new Date(Date.now() + 1_000)),
    );
    vi.advanceTimersByTime(999);
    expect(aborted?.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect((aborted?.reason as Error | undefined)?.message).toBe("the call's deadline passed");
    expect((await pending).err?.details).toBe("the call's deadline passed");

    let answered: AbortSignal | undefined;
    await unaryCall(
      (_request, context) => {
        answered = context.signal;
        return {};
      },
      fakeCall(new Date(Date.now() + 1_000)),
    );
    vi.advanceTimersByTime(5_000);
    expect(answered?.aborted).toBe(false);
  });

  it("a malformed request names the method, the message type and the fix", async () => {
    const call = fakeCall(Number.POSITIVE_INFINITY, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]));
    const { err } = await unaryCall(() => ({}), call);
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err?.details).toMatch(
      /^request to flotilla\.plugin\.v1\.RegionListerService\/ListRegions is not a valid flotilla\.plugin\.v1\.ListRegionsRequest message \(.+\); the client must send the protobuf encoding of that message$/,
    );
    expect(call.listenerCount("cancelled")).toBe(0);
  });

  it("a stream ends the call when the generator finishes, and detaches from it", async () => {
    const call = fakeCall();
    streamCall(async function* () {
      yield { lines: [{ text: "a" }] };
      yield {};
    }, call);
    await expect.poll(() => call.ended).toBe(1);
    expect(call.written).toHaveLength(2);
    expect(call.errors).toEqual([]);
    expect(call.listenerCount("cancelled")).toBe(0);
  });

  it("a stream whose handler returns when the deadline passes ends DEADLINE_EXCEEDED, never as complete", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const call = fakeCall(new Date(Date.now() + 1_000));
    streamCall(async function* (_request, context) {
      yield { lines: [{ text: "started" }] };
      // A follower that returns, rather than throws, when it is told to stop.
      await new Promise((resolve) => context.signal.addEventListener("abort", resolve));
    }, call);
    await vi.advanceTimersByTimeAsync(1_000);
    await expect.poll(() => call.errors).toHaveLength(1);
    expect(call.errors[0]).toMatchObject({ code: Code.DeadlineExceeded, details: "the call's deadline passed" });
    expect(call.ended).toBe(0);
  });

  it("a stream whose wait rejects with an AbortError at the deadline ends DEADLINE_EXCEEDED, not INTERNAL", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const call = fakeCall(new Date(Date.now() + 1_000));
    streamCall(async function* (_request, context) {
      yield {};
      await once(new EventEmitter(), "change", { signal: context.signal });
    }, call);
    await vi.advanceTimersByTimeAsync(1_000);
    await expect.poll(() => call.errors).toHaveLength(1);
    expect(call.errors[0]).toMatchObject({ code: Code.DeadlineExceeded, details: "the call's deadline passed" });
  });

  it("a status the handler chose after its signal fired stays its own", async () => {
    const shutdown = new AbortController();
    shutdown.abort();
    const { err } = await unaryCall(
      () => {
        throw new NotFoundError("job j-1 is gone");
      },
      fakeCall(),
      env(shutdown.signal),
    );
    expect(err).toMatchObject({ code: Code.NotFound, details: "job j-1 is gone" });
  });

  it("a stream cut short by a shutdown that ran out of time ends UNAVAILABLE, so the caller resumes elsewhere", async () => {
    const shutdown = new AbortController();
    const call = fakeCall();
    streamCall(
      async function* (_request, context) {
        yield {};
        await new Promise((resolve) => context.signal.addEventListener("abort", resolve));
      },
      call,
      env(shutdown.signal),
    );
    await expect.poll(() => call.written).toHaveLength(1);
    shutdown.abort();
    await expect.poll(() => call.errors).toHaveLength(1);
    expect(call.errors[0]).toMatchObject({ code: Code.Unavailable, details: "the plugin is shutting down" });
    expect(call.ended).toBe(0);
  });

  it("a stream the client cancelled is neither ended nor failed", async () => {
    const cancelledAtEnd = fakeCall();
    streamCall(async function* () {
      yield {};
      cancelledAtEnd.cancelled = true;
    }, cancelledAtEnd);
    await expect.poll(() => cancelledAtEnd.listenerCount("cancelled")).toBe(0);
    expect(cancelledAtEnd.ended).toBe(0);

    const cancelledThenThrew = fakeCall();
    streamCall(async function* () {
      cancelledThenThrew.cancelled = true;
      yield* nothing();
      throw new Error("after the cancel");
    }, cancelledThenThrew);
    await expect.poll(() => cancelledThenThrew.listenerCount("cancelled")).toBe(0);
    expect(cancelledThenThrew.errors).toEqual([]);
    expect(cancelledThenThrew.ended).toBe(0);
  });

  it("a stream's error becomes the call's status, and the call is detached", async () => {
    const call = fakeCall();
    streamCall(async function* () {
      yield* nothing();
      throw new Error("stream broke");
    }, call);
    await expect.poll(() => call.errors).toHaveLength(1);
    expect(call.errors[0]).toMatchObject({ code: Code.Internal, details: "stream broke" });
    expect(call.listenerCount("cancelled")).toBe(0);
    expect(call.ended).toBe(0);
  });

  it("waits for drain when the client reads slowly, then goes on, leaving no drain listener", async () => {
    const call = fakeCall();
    call.writeReturns = false;
    streamCall(async function* () {
      yield { lines: [{ text: "1" }] };
      yield { lines: [{ text: "2" }] };
    }, call);
    await expect.poll(() => call.listenerCount("drain")).toBe(1);
    expect(call.written).toHaveLength(1);
    call.emit("drain");
    await expect.poll(() => call.written).toHaveLength(2);
    call.emit("drain");
    await expect.poll(() => call.ended).toBe(1);
    expect(call.listenerCount("drain")).toBe(0);
  });

  it("stops waiting for drain when the call is cancelled, even if it was cancelled before the wait", async () => {
    const waiting = fakeCall();
    waiting.writeReturns = false;
    streamCall(async function* () {
      yield {};
      yield {};
    }, waiting);
    await expect.poll(() => waiting.listenerCount("drain")).toBe(1);
    waiting.cancelled = true;
    waiting.emit("cancelled");
    await expect.poll(() => waiting.listenerCount("cancelled")).toBe(0);
    expect(waiting.listenerCount("drain")).toBe(0);

    const already = fakeCall();
    already.write = (message: unknown) => {
      already.written.push(message);
      // The client goes away while this write is queued: the signal is aborted before the wait starts.
      already.emit("cancelled");
      return false;
    };
    streamCall(async function* () {
      yield {};
    }, already);
    await expect.poll(() => already.listenerCount("cancelled")).toBe(0);
    expect(already.listenerCount("drain")).toBe(0);
  });

  it("refuses a client- or bidi-streaming method, naming it", () => {
    const service = {
      typeName: "test.Streams",
      methods: [{ localName: "upload", name: "Upload", methodKind: "client_streaming" }],
    };
    expect(() => wrapHandlers(service as never, { upload: () => ({}) }, env())).toThrow(
      "test.Streams/Upload: client_streaming methods are not supported",
    );
  });
});
