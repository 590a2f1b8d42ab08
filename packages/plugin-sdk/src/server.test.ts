import { X509Certificate } from "node:crypto";
import { existsSync } from "node:fs";
import { ContractRegistryService, IaCProviderService, RegionListerService } from "@flotilla/protocol";
import { generateCertificate, goplugin } from "@flotilla/protocol/wire";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import type { PluginDefinition } from "./definition.js";
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

describe("startPluginServer, options and environment", () => {
  const definition: PluginDefinition = {
    name: "s",
    version: "1.0.0",
    provider: { configure: () => ({}) },
    regionLister: { listRegions: () => ({ regions: [{ id: "over-tls" }] }) },
  };

  it("adds the multiplexing field only when the host announces it", async () => {
    const plain = await startPluginServer(definition, { env: {}, logger: quiet });
    const announced = await startPluginServer(definition, { env: { PLUGIN_MULTIPLEX_GRPC: "true" }, logger: quiet });
    onTestFinished(async () => {
      await Promise.all([plain.shutdown(), announced.shutdown()]);
    });
    expect(plain.handshake).not.toHaveProperty("multiplexSupported");
    expect(announced.handshake.multiplexSupported).toBe(false);
    expect(announced.handshakeLine).toMatch(/\|grpc\|\|false$/);
  });

  it("serves the protocol versions it is given instead of the SDK's", async () => {
    const server = await startPluginServer(definition, {
      env: { PLUGIN_PROTOCOL_VERSIONS: "7" },
      supportedProtocolVersions: [7],
      logger: quiet,
    });
    onTestFinished(async () => {
      await server.shutdown();
    });
    expect(server.handshake.appProtocolVersion).toBe(7);
  });

  it("with the host's client certificate serves mTLS: its certificate in the handshake, only that client admitted", async () => {
    const [host, stranger] = await Promise.all([generateCertificate(), generateCertificate()]);
    const server = await startPluginServer(definition, { env: { PLUGIN_CLIENT_CERT: host.certPem }, logger: quiet });
    onTestFinished(async () => {
      await server.shutdown();
    });
    const cert = new X509Certificate(Buffer.from(server.handshake.serverCertDer ?? []));
    expect(cert.checkHost("localhost")).toBe("localhost");
    const trusted = pluginClient(server.handshake, RegionListerService, { tls: host });
    const untrusted = pluginClient(server.handshake, RegionListerService, { tls: stranger });
    onTestFinished(() => {
      trusted.close();
      untrusted.close();
    });
    expect((await trusted.unary("listRegions", {})).regions[0]?.id).toBe("over-tls");
    await expect(untrusted.unary("listRegions", {}, { deadline: 10_000 })).rejects.toMatchObject({ code: 14 });
  });

  it("refuses a client certificate that is not PEM, naming the variable and the fix", async () => {
    const failure = await startPluginServer(definition, {
      env: { PLUGIN_CLIENT_CERT: "not a certificate" },
      logger: quiet,
    })
      .then(() => undefined)
      .catch((e) => e);
    expect(failure).toBeInstanceOf(PluginStartupError);
    expect(failure.message).toMatch(
      /^PLUGIN_CLIENT_CERT is set but is not a PEM certificate \(.+\); the host must pass its AutoMTLS client certificate, PEM encoded, or leave the variable unset$/,
    );
    expect(failure.cause).toBeInstanceOf(Error);
  });

  it("without a logger, logs hclog lines to the process's stderr", async () => {
    const lines: string[] = [];
    const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    onTestFinished(() => spy.mockRestore());
    const server = await startPluginServer(
      {
        ...definition,
        onShutdown: () => {
          throw new Error("hook broke");
        },
      },
      { env: {} },
    );
    await server.shutdown();
    spy.mockRestore();
    const failed = lines.map((l) => JSON.parse(l)).find((r) => r["@message"] === "the plugin's onShutdown hook failed");
    expect(failed).toMatchObject({ "@level": "error", "@module": "s", error: "hook broke" });
  });
});

describe("startPluginServer, what it serves", () => {
  it("answers the contract registry in-process with the plugin's registry", async () => {
    const server = await startPluginServer(
      { name: "reg", version: "2.0.0", provider: { configure: () => ({}) }, configSchema: { type: "object" } },
      { env: {}, logger: quiet },
    );
    onTestFinished(async () => {
      await server.shutdown();
    });
    const registry = pluginClient(server.handshake, ContractRegistryService);
    onTestFinished(() => registry.close());
    expect((await registry.unary("getContractRegistry", {})).registry).toMatchObject({
      pluginName: "reg",
      pluginVersion: "2.0.0",
      configSchemaJson: '{"type":"object"}',
    });
  });

  it("warns when a shutdown outlives the grace period, and only then", async () => {
    const records: Record<string, unknown>[] = [];
    const logger = createLogger({ module: "t", write: (line) => records.push(JSON.parse(line)) });
    const hanging = await startPluginServer(
      {
        name: "slow",
        version: "1.0.0",
        provider: { configure: () => ({}) },
        onShutdown: (signal) => new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve())),
      },
      { env: {}, logger, gracePeriodMs: 100 },
    );
    expect(await hanging.shutdown()).toBe(false);
    expect(records.filter((r) => r["@level"] === "warn")).toMatchObject([
      {
        "@message": "in-flight calls or the onShutdown hook did not finish within the grace period",
        gracePeriodMs: 100,
      },
    ]);
    records.length = 0;
    const quick = await startPluginServer(
      { name: "quick", version: "1.0.0", provider: { configure: () => ({}) } },
      { env: {}, logger, gracePeriodMs: 10_000 },
    );
    expect(await quick.shutdown()).toBe(true);
    expect(records.filter((r) => r["@level"] === "warn")).toEqual([]);
  });

  it("serves mTLS over TCP too, where the address is an IP but the certificate names localhost", async () => {
    const host = await generateCertificate();
    const server = await startPluginServer(
      {
        name: "tcp",
        version: "1.0.0",
        provider: { configure: () => ({}) },
        regionLister: { listRegions: () => ({ regions: [{ id: "tcp" }] }) },
      },
      { env: { PLUGIN_CLIENT_CERT: host.certPem }, logger: quiet, network: "tcp" },
    );
    onTestFinished(async () => {
      await server.shutdown();
    });
    expect(server.handshake.network).toBe("tcp");
    const client = pluginClient(server.handshake, RegionListerService, { tls: host });
    onTestFinished(() => client.close());
    expect((await client.unary("listRegions", {}, { deadline: 10_000 })).regions[0]?.id).toBe("tcp");
  });
});
