import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import {
  ContractRegistryService,
  HEALTH_SERVICE_NAME,
  health,
  IaCProviderService,
  MAGIC_COOKIE,
  OptionalServiceName,
  RegionListerService,
} from "@flotilla/protocol";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { SDK_NAME_AND_VERSION } from "./sdk-version.js";
import { compiledFixture } from "./testing/fixtures/fixture-path.js";
import { type PluginClient, pluginClient } from "./testing/plugin-client.js";
import { hostEnvironment, type SpawnedPlugin, spawnPlugin } from "./testing/spawn-plugin.js";

const fixture = compiledFixture("fixture-plugin");
const running: SpawnedPlugin[] = [];
const clients: PluginClient<never>[] = [];

async function start(env: Record<string, string | undefined> = {}): Promise<SpawnedPlugin> {
  const plugin = await spawnPlugin(process.execPath, [fixture], { env });
  running.push(plugin);
  return plugin;
}

function client<S extends Parameters<typeof pluginClient>[1]>(plugin: SpawnedPlugin, service: S): PluginClient<S> {
  const c = pluginClient(plugin.handshake, service);
  clients.push(c as never);
  return c;
}

/** Runs the fixture to completion with `env`, returning its exit code and output. */
function runToExit(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [fixture], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  for (const p of running.splice(0)) p.kill();
});

describe("serve() run by hand", () => {
  it("without the magic cookie prints a human message on stderr, nothing on stdout, and exits 1", async () => {
    const result = await runToExit({ PATH: process.env.PATH });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("this is a Flotilla provider plugin");
    expect(result.stderr).toContain("flotilla plugin inspect -- <command>");
  });

  it("with a wrong cookie value exits 1 too", async () => {
    const result = await runToExit({ PATH: process.env.PATH, [MAGIC_COOKIE.key]: "wrong" });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("this is a Flotilla provider plugin");
  });
});

describe("protocol version negotiation", () => {
  it("picks version 1 from a host offering 1,2 and prints it in the handshake", async () => {
    const plugin = await start({ PLUGIN_PROTOCOL_VERSIONS: "2,1" });
    expect(plugin.handshake.appProtocolVersion).toBe(1);
  });

  it("exits non-zero with both sides' versions on stderr when none is in common", async () => {
    const result = await runToExit(
      hostEnvironment({ PLUGIN_PROTOCOL_VERSIONS: "2,3", FLOTILLA_PLUGIN_STDIN_LIFELINE: undefined }),
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/no protocol version in common.*2,3.*speaks 1/);
  });
});

describe("handshake", () => {
  it("is the first stdout line, six fields, a Unix socket that exists, no certificate", async () => {
    const plugin = await start();
    expect(plugin.handshakeLine).toMatch(/^1\|1\|unix\|[^|]+\|grpc\|$/);
    const address = plugin.handshakeLine.split("|")[3];
    expect(plugin.handshake).toEqual({
      coreProtocolVersion: 1,
      appProtocolVersion: 1,
      network: "unix",
      address,
      protocol: "grpc",
    });
    expect(existsSync(plugin.handshake.address)).toBe(true);
    expect(Buffer.byteLength(plugin.handshake.address)).toBeLessThanOrEqual(103);
  });

  it("adds the multiplexing field as false when the host sets PLUGIN_MULTIPLEX_GRPC (we have no broker)", async () => {
    const plugin = await start({ PLUGIN_MULTIPLEX_GRPC: "true" });
    expect(plugin.handshakeLine).toMatch(/\|grpc\|\|false$/);
    expect(plugin.handshake.multiplexSupported).toBe(false);
  });

  it("puts the socket in PLUGIN_UNIX_SOCKET_DIR and removes it on exit", async () => {
    const fs = await import("node:fs");
    const dir = fs.mkdtempSync("/tmp/sdk-sock-");
    onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
    const plugin = await start({ PLUGIN_UNIX_SOCKET_DIR: dir });
    expect(plugin.handshake.address.startsWith(`${dir}/`)).toBe(true);
    plugin.child.kill("SIGTERM");
    expect((await plugin.exited).code).toBe(0);
    expect(existsSync(plugin.handshake.address)).toBe(false);
  });

  it("listens on TCP within PLUGIN_MIN_PORT..PLUGIN_MAX_PORT when FLOTILLA_PLUGIN_NETWORK=tcp", async () => {
    const plugin = await start({ FLOTILLA_PLUGIN_NETWORK: "tcp", PLUGIN_MIN_PORT: "23100", PLUGIN_MAX_PORT: "23199" });
    expect(plugin.handshake.network).toBe("tcp");
    const port = Number(plugin.handshake.address.split(":")[1]);
    expect(port).toBeGreaterThanOrEqual(23100);
    expect(port).toBeLessThanOrEqual(23199);
    const regions = await client(plugin, RegionListerService).unary("listRegions", {});
    expect(regions.regions[0]?.id).toBe("here");
  });
});

describe("a served plugin", () => {
  it("answers health SERVING for 'plugin' and '', NOT_FOUND for an unknown service", async () => {
    const plugin = await start();
    const h = client(plugin, health.Health);
    expect((await h.unary("check", { service: HEALTH_SERVICE_NAME })).status).toBe(
      health.HealthCheckResponse_ServingStatus.SERVING,
    );
    expect((await h.unary("check", { service: "" })).status).toBe(health.HealthCheckResponse_ServingStatus.SERVING);
    await expect(h.unary("check", { service: "no.such.Service" })).rejects.toMatchObject({ code: 5 });
  });

  it("lists in its registry exactly the optional services it implements, with schemas and the SDK", async () => {
    const plugin = await start();
    const { registry } = await client(plugin, ContractRegistryService).unary("getContractRegistry", {});
    expect(registry?.pluginName).toBe("fixture");
    expect(registry?.pluginVersion).toBe("9.9.9");
    expect(registry?.protocolVersion).toBe(1);
    expect(registry?.services).toEqual([OptionalServiceName.regionLister]);
    expect(JSON.parse(registry?.configSchemaJson ?? "")).toEqual({ type: "object" });
    expect(registry?.targetSchemaJson).toBe("");
    expect(registry?.sdk).toBe(SDK_NAME_AND_VERSION);
  });

  it("does not serve an optional service it did not implement (UNIMPLEMENTED)", async () => {
    const { IaCProviderRunnerService } = await import("@flotilla/protocol");
    const plugin = await start();
    await expect(client(plugin, IaCProviderRunnerService).unary("jobStatus", {})).rejects.toMatchObject({ code: 12 });
  });

  it("describes itself with its name and version when the author gave no describe()", async () => {
    const plugin = await start();
    const described = await client(plugin, IaCProviderService).unary("describe", {});
    expect(described.name).toBe("fixture");
    expect(described.version).toBe("9.9.9");
  });
});

describe("errors and logs across the process boundary", () => {
  it("a thrown NotFoundError reaches the client as NOT_FOUND with message and metadata", async () => {
    const plugin = await start();
    const err = await client(plugin, IaCProviderService)
      .unary("configure", {}, { metadata: { "x-throw": "NotFound" } })
      .catch((e) => e);
    expect(err.code).toBe(5);
    expect(err.details).toBe("fixture threw NotFound");
    expect(err.metadata.get("fixture-key")).toEqual(["fixture-value"]);
  });

  it("handler logs reach stderr as hclog JSON with the secret-looking field redacted", async () => {
    const plugin = await start();
    await client(plugin, IaCProviderService).unary("configure", { configJson: new Uint8Array(7) });
    await expect.poll(() => plugin.stderr()).toContain('"@message":"configured"');
    const record = plugin
      .stderr()
      .split("\n")
      .filter((l) => l.includes('"configured"'))
      .map((l) => JSON.parse(l))[0];
    expect(record).toMatchObject({ "@level": "info", "@module": "fixture", bytes: 7, apiToken: "[redacted]" });
    expect(plugin.stderr()).not.toContain("must-not-appear");
  });
});

describe("a partially implemented service", () => {
  it("stops the plugin at start-up with an error naming every missing method", async () => {
    const result = await runToExit(
      hostEnvironment({ FIXTURE_PARTIAL_RUNNER: "1", FLOTILLA_PLUGIN_STDIN_LIFELINE: undefined }),
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("flotilla.plugin.v1.IaCProviderRunnerService");
    expect(result.stderr).toContain("jobStatus, batchJobStatus, jobLogs, cancelJob");
  });
});
