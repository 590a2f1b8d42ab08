import { existsSync } from "node:fs";
import { IaCProviderService } from "@flotilla/protocol";
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
    const server = await startPluginServer(
      {
        name: "s",
        version: "1.0.0",
        provider: {
          configure: (_r, { signal }) =>
            new Promise((_, reject) =>
              signal.addEventListener("abort", () => {
                aborted = true;
                reject(signal.reason);
              }),
            ),
        },
      },
      { env: {}, logger: quiet, gracePeriodMs: 200 },
    );
    const client = pluginClient(server.handshake, IaCProviderService);
    const call = client.unary("configure", {}).catch((e) => e);
    await new Promise((r) => setTimeout(r, 200));
    await expect(server.shutdown()).resolves.toBe(false);
    expect(aborted).toBe(true);
    await call;
    client.close();
  });
});
