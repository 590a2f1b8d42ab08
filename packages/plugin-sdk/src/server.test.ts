import { existsSync } from "node:fs";
import { goplugin, IaCProviderService } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.js";
import { startPluginServer } from "./server.js";
import { PluginStartupError } from "./startup-error.js";
import { pluginClient } from "./testing/plugin-client.js";

const quiet = createLogger({ module: "t", write: () => {} });

describe("startPluginServer", () => {
  it("returns a handshake for a listening Unix socket without touching process state", async () => {
    const stdoutWrite = process.stdout.write;
    const server = await startPluginServer(
      { name: "s", version: "1.0.0", provider: { configure: () => ({}) } },
      { env: { PLUGIN_PROTOCOL_VERSIONS: "1" }, logger: quiet },
    );
    try {
      expect(process.stdout.write).toBe(stdoutWrite);
      expect(server.handshakeLine).toBe(`1|1|unix|${server.handshake.address}|grpc|`);
      expect(existsSync(server.handshake.address)).toBe(true);
    } finally {
      await server.shutdown();
    }
    expect(existsSync(server.handshake.address)).toBe(false);
  });

  it("shutdown() is idempotent and resolves `closed` with the first reason", async () => {
    const server = await startPluginServer(
      { name: "s", version: "1.0.0", provider: { configure: () => ({}) } },
      { env: {}, logger: quiet },
    );
    const first = server.shutdown("signal");
    expect(server.shutdown("close")).toBe(first);
    await expect(first).resolves.toBe(true);
    await expect(server.closed).resolves.toBe("signal");
  });

  it("throws PluginStartupError for a bad definition, before it binds anything", async () => {
    await expect(
      startPluginServer({ name: "s", version: "1.0.0", provider: {} } as never, { env: {}, logger: quiet }),
    ).rejects.toBeInstanceOf(PluginStartupError);
  });

  it("reports a shutdown that outlived its grace period as not graceful, after aborting the call", async () => {
    let aborted = false;
    let reachedHandler: () => void = () => {};
    const inHandler = new Promise<void>((resolve) => {
      reachedHandler = resolve;
    });
    const server = await startPluginServer(
      {
        name: "s",
        version: "1.0.0",
        provider: {
          configure: (_r, { signal }) =>
            new Promise((_, reject) => {
              reachedHandler();
              signal.addEventListener("abort", () => {
                aborted = true;
                reject(signal.reason);
              });
            }),
        },
      },
      { env: {}, logger: quiet, gracePeriodMs: 200 },
    );
    const client = pluginClient(server.handshake, IaCProviderService);
    const call = client.unary("configure", {}).catch((e) => e);
    // Shut down only once the call is really in the handler, however slow the machine is.
    await inHandler;
    await expect(server.shutdown()).resolves.toBe(false);
    expect(aborted).toBe(true);
    await call;
    client.close();
  });

  it("GRPCController/Shutdown runs the onShutdown hook and waits for it before closing", async () => {
    let hookFinished = false;
    let hookSignal: AbortSignal | undefined;
    const server = await startPluginServer(
      {
        name: "s",
        version: "1.0.0",
        provider: { configure: () => ({}) },
        onShutdown: async (signal) => {
          hookSignal = signal;
          await new Promise((r) => setTimeout(r, 300));
          hookFinished = true;
        },
      },
      { env: {}, logger: quiet, gracePeriodMs: 10_000 },
    );
    const controller = pluginClient(server.handshake, goplugin.GRPCController);
    try {
      await controller.unary("shutdown", {});
      await expect(server.closed).resolves.toBe("controller");
      expect(hookFinished).toBe(true);
      expect(hookSignal?.aborted).toBe(false);
      await expect(server.shutdown()).resolves.toBe(true);
    } finally {
      controller.close();
    }
  });

  it("aborts a slow onShutdown hook's signal when the grace period runs out, and still closes", async () => {
    let abortedAfterMs: number | undefined;
    const started = Date.now();
    const server = await startPluginServer(
      {
        name: "s",
        version: "1.0.0",
        provider: { configure: () => ({}) },
        onShutdown: (signal) =>
          new Promise<void>(() => {
            signal.addEventListener("abort", () => {
              abortedAfterMs = Date.now() - started;
            });
          }),
      },
      { env: {}, logger: quiet, gracePeriodMs: 200 },
    );
    await expect(server.shutdown()).resolves.toBe(false);
    expect(abortedAfterMs).toBeGreaterThanOrEqual(150);
  });

  it("logs an onShutdown hook that throws, and still shuts down gracefully", async () => {
    const lines: string[] = [];
    const server = await startPluginServer(
      {
        name: "s",
        version: "1.0.0",
        provider: { configure: () => ({}) },
        onShutdown: () => {
          throw new Error("clean-up exploded");
        },
      },
      { env: {}, logger: createLogger({ module: "t", write: (l) => lines.push(l) }) },
    );
    await expect(server.shutdown()).resolves.toBe(true);
    expect(lines.join("")).toContain("clean-up exploded");
  });
});
