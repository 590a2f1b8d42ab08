import { EventEmitter } from "node:events";
import { IaCProviderService } from "@flotilla/protocol";
import { goplugin } from "@flotilla/protocol/wire";
import { afterEach, describe, expect, it } from "vitest";
import { captureProcessStdio, MAX_BUFFERED_STDIO_BYTES, StdioRelay } from "./stdio.js";
import { compiledFixture } from "./testing/fixtures/fixture-path.js";
import { pluginClient } from "./testing/plugin-client.js";
import { type SpawnedPlugin, spawnPlugin } from "./testing/spawn-plugin.js";

const running: SpawnedPlugin[] = [];
const clients: { close(): void }[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  for (const p of running.splice(0)) p.kill();
});

describe("plugin.GRPCStdio in a plugin process", () => {
  it("streams console.log output written after the handshake, buffered until the host connects", async () => {
    const plugin = await spawnPlugin(process.execPath, [compiledFixture("fixture-plugin")]);
    running.push(plugin);
    const provider = pluginClient(plugin.handshake, IaCProviderService);
    clients.push(provider);
    // Printed before anyone streams stdio: must be buffered, not lost, and not on the real stdout.
    await provider.unary("configure", {}, { metadata: { "x-print": "before-connect" } });
    const stdio = pluginClient(plugin.handshake, goplugin.GRPCStdio);
    clients.push(stdio);
    const abort = new AbortController();
    const received: { channel: number; text: string }[] = [];
    const reading = (async () => {
      for await (const chunk of stdio.serverStream("streamStdio", {}, { signal: abort.signal })) {
        received.push({ channel: chunk.channel, text: Buffer.from(chunk.data).toString() });
      }
    })().catch(() => {});
    await provider.unary("configure", {}, { metadata: { "x-print": "after-connect" } });
    await expect
      .poll(() => received.map((r) => r.text).join(""), { timeout: 10_000 })
      .toBe("before-connect\nafter-connect\n");
    expect(received.every((r) => r.channel === goplugin.StdioData_Channel.STDOUT)).toBe(true);
    expect(plugin.stdout()).toBe("");
    abort.abort();
    await reading;
  });

  it("keeps the handshake the first stdout line when the plugin prints while serve() is starting", async () => {
    const plugin = await spawnPlugin(process.execPath, [compiledFixture("fixture-plugin")], {
      env: { FIXTURE_PRINT_DURING_START: "1" },
    });
    running.push(plugin);
    expect(plugin.handshakeLine).toMatch(/^1\|1\|unix\|/);
    const stdio = pluginClient(plugin.handshake, goplugin.GRPCStdio);
    clients.push(stdio);
    const abort = new AbortController();
    let text = "";
    const reading = (async () => {
      for await (const chunk of stdio.serverStream("streamStdio", {}, { signal: abort.signal })) {
        text += Buffer.from(chunk.data).toString();
      }
    })().catch(() => {});
    await expect.poll(() => text).toBe("printed while serve() was starting\n");
    expect(plugin.stdout()).toBe("");
    abort.abort();
    await reading;
  });

  it("ends the stream when the plugin shuts down, so it does not hold the shutdown open", async () => {
    const plugin = await spawnPlugin(process.execPath, [compiledFixture("fixture-plugin")]);
    running.push(plugin);
    // Printed before the stream opens, this is buffered and becomes its first chunk: seeing it
    // proves the stream is open before SIGTERM, however slow the machine is.
    const provider = pluginClient(plugin.handshake, IaCProviderService);
    clients.push(provider);
    await provider.unary("configure", {}, { metadata: { "x-print": "stream is open" } });
    const stdio = pluginClient(plugin.handshake, goplugin.GRPCStdio);
    clients.push(stdio);
    let firstChunk: () => void = () => {};
    const streaming = new Promise<void>((resolve) => {
      firstChunk = resolve;
    });
    const ended = (async () => {
      for await (const _ of stdio.serverStream("streamStdio", {})) firstChunk();
      return "ended";
    })();
    await Promise.race([streaming, ended]);
    plugin.child.kill("SIGTERM");
    await expect(ended).resolves.toBe("ended");
    expect((await plugin.exited).code).toBe(0);
  });
});

describe("StdioRelay", () => {
  it("keeps at most MAX_BUFFERED_STDIO_BYTES while nobody listens, dropping the oldest chunks", () => {
    const relay = new StdioRelay();
    const chunk = Buffer.alloc(256 * 1024, 0x61);
    for (let i = 0; i < 10; i++) relay.push("stdout", chunk);
    const writes: { data: Uint8Array }[] = [];
    const call = {
      cancelled: false,
      write: (m: { data: Uint8Array }) => writes.push(m),
      on: () => call,
      end: () => {},
      writableLength: 0,
    };
    relay.handlers().streamStdio?.(call as never, undefined as never);
    const total = writes.reduce((n, w) => n + w.data.byteLength, 0);
    expect(Buffer.from(writes[0]?.data ?? []).toString()).toMatch(/bytes of plugin output dropped/);
    expect(total).toBeLessThanOrEqual(MAX_BUFFERED_STDIO_BYTES + 100);
    expect(total).toBeGreaterThan(MAX_BUFFERED_STDIO_BYTES / 2);
  });

  it("drops output instead of queueing without bound when the host stops reading, and says how much", () => {
    const relay = new StdioRelay();
    const writes: { data: Uint8Array }[] = [];
    const call = {
      cancelled: false,
      writableLength: 0,
      write: (m: { data: Uint8Array }) => writes.push(m),
      on: () => call,
      end: () => {},
    };
    relay.handlers().streamStdio?.(call as never, undefined as never);
    call.writableLength = MAX_BUFFERED_STDIO_BYTES + 1;
    relay.push("stdout", "lost\n");
    expect(writes).toHaveLength(0);
    call.writableLength = 0;
    relay.push("stdout", "kept\n");
    expect(writes.map((w) => Buffer.from(w.data).toString())).toEqual([
      "[5 bytes of plugin output dropped]\n",
      "kept\n",
    ]);
  });
});

/** A stand-in for grpc-js's StreamStdio call: records what the relay writes, and can be cancelled. */
function fakeStdioCall() {
  const events = new EventEmitter();
  const call = {
    cancelled: false,
    writableLength: 0,
    ended: false,
    written: [] as { channel: number; text: string }[],
    write(m: { channel: number; data: Uint8Array }) {
      call.written.push({ channel: m.channel, text: Buffer.from(m.data).toString() });
      return true;
    },
    end() {
      call.ended = true;
    },
    on(event: string, listener: () => void) {
      events.on(event, listener);
      return call;
    },
    cancel() {
      call.cancelled = true;
      events.emit("cancelled");
    },
  };
  return call;
}

function connect(relay: StdioRelay, call: ReturnType<typeof fakeStdioCall>): void {
  relay.handlers().streamStdio?.(call as never, undefined as never);
}

const { STDOUT, STDERR } = goplugin.StdioData_Channel;

describe("StdioRelay, chunk by chunk", () => {
  it("sends each chunk on its own channel: stdout as STDOUT, stderr as STDERR", () => {
    const relay = new StdioRelay();
    const call = fakeStdioCall();
    connect(relay, call);
    relay.push("stdout", "out\n");
    relay.push("stderr", Buffer.from("err\n"));
    expect(call.written).toEqual([
      { channel: STDOUT, text: "out\n" },
      { channel: STDERR, text: "err\n" },
    ]);
  });

  it("ignores empty chunks instead of buffering or sending them", () => {
    const relay = new StdioRelay();
    relay.push("stdout", "");
    relay.push("stdout", new Uint8Array(0));
    const call = fakeStdioCall();
    connect(relay, call);
    relay.push("stderr", "");
    expect(call.written).toEqual([]);
  });

  it("still sends while the host's queue is exactly at the bound, and drops only above it", () => {
    const relay = new StdioRelay();
    const call = fakeStdioCall();
    connect(relay, call);
    call.writableLength = MAX_BUFFERED_STDIO_BYTES;
    relay.push("stdout", "at the bound\n");
    expect(call.written).toEqual([{ channel: STDOUT, text: "at the bound\n" }]);
  });

  it("buffers exactly MAX_BUFFERED_STDIO_BYTES without dropping, and counts every dropped byte", () => {
    const relay = new StdioRelay();
    const half = MAX_BUFFERED_STDIO_BYTES / 2;
    relay.push("stdout", Buffer.alloc(half, 0x61));
    relay.push("stdout", Buffer.alloc(half, 0x62));
    const first = fakeStdioCall();
    connect(relay, first);
    expect(first.written.map((w) => w.text.length)).toEqual([half, half]);

    const second = new StdioRelay();
    second.push("stdout", Buffer.alloc(half, 0x61));
    second.push("stdout", Buffer.alloc(half, 0x62));
    second.push("stdout", Buffer.alloc(half - 1, 0x63));
    second.push("stdout", Buffer.alloc(half - 2, 0x64));
    const call = fakeStdioCall();
    connect(second, call);
    expect(call.written[0]?.text).toBe(`[${half * 2} bytes of plugin output dropped]\n`);
    expect(call.written.slice(1).map((w) => w.text[0])).toEqual(["c", "d"]);
  });

  it("keeps a single chunk larger than the bound rather than dropping everything", () => {
    const relay = new StdioRelay();
    relay.push("stderr", Buffer.alloc(MAX_BUFFERED_STDIO_BYTES + 10, 0x61));
    const call = fakeStdioCall();
    connect(relay, call);
    expect(call.written.map((w) => [w.channel, w.text.length])).toEqual([[STDERR, MAX_BUFFERED_STDIO_BYTES + 10]]);
  });

  it("after close(), ends the stream and hands later output to the afterClose writer", () => {
    const after: { channel: string; text: string }[] = [];
    const relay = new StdioRelay((channel, data) => after.push({ channel, text: Buffer.from(data).toString() }));
    const call = fakeStdioCall();
    connect(relay, call);
    relay.close();
    expect(call.ended).toBe(true);
    relay.push("stdout", "late out\n");
    relay.push("stderr", "late err\n");
    expect(after).toEqual([
      { channel: "stdout", text: "late out\n" },
      { channel: "stderr", text: "late err\n" },
    ]);
    expect(call.written).toEqual([]);
    // A host that connects after the close gets an ended stream, not the late output.
    const late = fakeStdioCall();
    connect(relay, late);
    expect(late.ended).toBe(true);
    expect(late.written).toEqual([]);
  });

  it("a newer StreamStdio call replaces an older one; the older one's cancel does not detach the newer", () => {
    const relay = new StdioRelay();
    const older = fakeStdioCall();
    connect(relay, older);
    const newer = fakeStdioCall();
    connect(relay, newer);
    expect(older.ended).toBe(true);
    older.cancel();
    relay.push("stdout", "to the newer\n");
    expect(newer.written).toEqual([{ channel: STDOUT, text: "to the newer\n" }]);
    expect(older.written).toEqual([]);
  });

  it("buffers again once the host cancels, and sends that on the next connect", () => {
    const relay = new StdioRelay();
    const first = fakeStdioCall();
    connect(relay, first);
    first.cancel();
    relay.push("stdout", "while nobody listens\n");
    expect(first.written).toEqual([]);
    const next = fakeStdioCall();
    connect(relay, next);
    expect(next.written).toEqual([{ channel: STDOUT, text: "while nobody listens\n" }]);
  });
});

describe("captureProcessStdio", () => {
  function fakeStreams() {
    const sink = { stdout: [] as string[], stderr: [] as string[] };
    const stream = (name: "stdout" | "stderr") => ({
      write: ((chunk: string | Uint8Array) => {
        sink[name].push(Buffer.from(chunk).toString());
        return true;
      }) as NodeJS.WriteStream["write"],
    });
    return { streams: { stdout: stream("stdout"), stderr: stream("stderr") }, sink };
  }

  it("routes writes into the relay, decoding an encoding, and keeps the original writers for the SDK", () => {
    const relay = new StdioRelay();
    const call = fakeStdioCall();
    connect(relay, call);
    const { streams, sink } = fakeStreams();
    const io = captureProcessStdio(relay, streams);
    expect(streams.stdout.write("plain\n")).toBe(true);
    streams.stdout.write("6869", "hex");
    streams.stderr.write(Buffer.from("bytes\n"));
    expect(call.written).toEqual([
      { channel: STDOUT, text: "plain\n" },
      { channel: STDOUT, text: "hi" },
      { channel: STDERR, text: "bytes\n" },
    ]);
    expect(sink).toEqual({ stdout: [], stderr: [] });

    io.writeStdout("handshake\n");
    io.writeStderr("log line\n");
    io.writeRaw("stdout", Buffer.from("raw out"));
    io.writeRaw("stderr", Buffer.from("raw err"));
    expect(sink).toEqual({ stdout: ["handshake\n", "raw out"], stderr: ["log line\n", "raw err"] });
    expect(call.written).toHaveLength(3);

    io.restore();
    streams.stdout.write("after restore\n");
    streams.stderr.write("after restore too\n");
    expect(sink.stdout.at(-1)).toBe("after restore\n");
    expect(sink.stderr.at(-1)).toBe("after restore too\n");
    expect(call.written).toHaveLength(3);
  });

  it("calls a write's callback, given in either position", async () => {
    const relay = new StdioRelay();
    const { streams } = fakeStreams();
    const io = captureProcessStdio(relay, streams);
    const called: string[] = [];
    streams.stdout.write("a", () => called.push("second argument"));
    streams.stderr.write("b", "utf8", () => called.push("third argument"));
    await expect.poll(() => called.sort()).toEqual(["second argument", "third argument"]);
    io.restore();
  });
});
