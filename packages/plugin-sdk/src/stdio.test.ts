import { goplugin, IaCProviderService } from "@flotilla/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { MAX_BUFFERED_STDIO_BYTES, StdioRelay } from "./stdio.js";
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
