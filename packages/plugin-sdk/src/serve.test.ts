import { spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import {
  ContractRegistryService,
  IaCProviderService,
  NotFoundError,
  OptionalServiceName,
  RegionListerService,
} from "@flotilla/protocol";
import { HEALTH_SERVICE_NAME, health, MAGIC_COOKIE, parseHandshake } from "@flotilla/protocol/wire";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import type { PluginDefinition } from "./definition.js";
import { SDK_NAME_AND_VERSION } from "./sdk-version.js";
import { serveWith } from "./serve.js";
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
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.code).toBe(5);
    expect(err.message).toBe("fixture threw NotFound");
    expect(err.metadata).toEqual({ "fixture-key": "fixture-value" });
  });

  it("handler logs reach stderr as hclog JSON with the secret-looking field redacted", async () => {
    const plugin = await start();
    await client(plugin, IaCProviderService).unary("configure", { configJson: new TextEncoder().encode('{"a":1}') });
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

/**
 * A stand-in process for serveWith(): what serve() writes to stdout/stderr is recorded, exit codes are
 * recorded instead of ending the test process, and signals/stdin events are emitted by the test.
 */
function standInProcess(env: NodeJS.ProcessEnv, { stuckStderr = false } = {}) {
  const signals = new EventEmitter();
  const output = { stdout: "", stderr: "" };
  const exits: number[] = [];
  const stream = (name: "stdout" | "stderr") =>
    Object.assign(new EventEmitter(), {
      write: ((chunk: string | Uint8Array, ...rest: unknown[]) => {
        output[name] += Buffer.from(chunk).toString();
        const callback = rest.find((r) => typeof r === "function") as (() => void) | undefined;
        // A stuck pipe never reports a write as done.
        if (callback && !(stuckStderr && name === "stderr")) queueMicrotask(callback);
        // As a real stream under back-pressure: what serve() leaves behind must pass this answer on.
        return false;
      }) as NodeJS.WriteStream["write"],
    });
  const stdin = Object.assign(new EventEmitter(), { resume() {}, pause() {} });
  const proc = {
    env,
    ppid: process.ppid,
    stdin,
    stdout: stream("stdout"),
    stderr: stream("stderr"),
    exit: (code: number) => void exits.push(code),
    on: (event: string, listener: () => void) => signals.on(event, listener),
    off: (event: string, listener: () => void) => signals.off(event, listener),
    signal: (name: string) => signals.emit(name),
    listening: (name: string) => signals.listenerCount(name),
  };
  return { proc, output, exits };
}

const inProcessDefinition: PluginDefinition = {
  name: "served-here",
  version: "1.0.0",
  provider: { configure: () => ({}) },
  regionLister: { listRegions: () => ({ regions: [{ id: "r1" }] }) },
};

describe("serve() in this process (serveWith a stand-in process)", () => {
  const socketDir = () => {
    const dir = mkdtempSync("/tmp/sdk-serve-");
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  };
  const cookie = { [MAGIC_COOKIE.key]: MAGIC_COOKIE.value };

  it("without the cookie writes only the explanation, naming the plugin, and exits 1", async () => {
    for (const [definition, name] of [
      [inProcessDefinition, "served-here"],
      [undefined, "plugin"],
    ] as const) {
      const { proc, output, exits } = standInProcess({ [MAGIC_COOKIE.key]: "wrong" });
      await serveWith(definition as PluginDefinition, {}, proc);
      expect(exits).toEqual([1]);
      expect(output).toEqual({
        stdout: "",
        stderr: `${name}: this is a Flotilla provider plugin, not a program to run by hand.\nRun it through a Flotilla host, e.g. \`flotilla plugin inspect -- <command>\`.\n(The host sets ${MAGIC_COOKIE.key}; it was missing or wrong in this environment.)\n`,
      });
      expect(proc.listening("SIGTERM")).toBe(0);
    }
  });

  it("prints the handshake first, serves, relays later prints, and on SIGTERM stops and exits 0", async () => {
    const dir = socketDir();
    const { proc, output, exits } = standInProcess({ ...cookie, PLUGIN_UNIX_SOCKET_DIR: dir });
    const serving = serveWith(inProcessDefinition, {}, proc);
    await expect.poll(() => output.stdout).toMatch(/\n$/);
    const line = output.stdout.trimEnd();
    expect(line).toMatch(new RegExp(`^1\\|1\\|unix\\|${dir}/[^|]+\\|grpc\\|$`));
    const regions = pluginClient(parseHandshake(line), RegionListerService);
    clients.push(regions as never);
    expect((await regions.unary("listRegions", {})).regions.map((r) => r.id)).toEqual(["r1"]);

    // After the handshake, what the plugin prints goes to plugin.GRPCStdio, not to the real stdout.
    proc.stdout.write("printed by the plugin\n");
    expect(output.stdout).toBe(`${line}\n`);
    // A broken pipe on either stream does not crash the plugin.
    proc.stdout.emit("error", new Error("EPIPE"));
    proc.stderr.emit("error", new Error("EPIPE"));
    // SIGINT is not a reason to stop.
    proc.signal("SIGINT");
    expect((await regions.unary("listRegions", {})).regions).toHaveLength(1);
    expect(exits).toEqual([]);

    proc.signal("SIGTERM");
    await serving;
    await expect.poll(() => exits).toEqual([0]);
    const stopping = output.stderr
      .split("\n")
      .filter((l) => l.includes("plugin stopping"))
      .map((l) => JSON.parse(l));
    expect(stopping).toMatchObject([
      { "@level": "info", "@module": "served-here", "@message": "plugin stopping", cause: "signal", detail: "SIGTERM" },
    ]);
    expect(proc.listening("SIGTERM") + proc.listening("SIGINT")).toBe(0);
    // stdout is the process's own again: writes reach it, with its answer, instead of the closed relay.
    expect(proc.stdout.write("after the stop\n")).toBe(false);
    expect(output.stdout).toBe(`${line}\nafter the stop\n`);
    await expect(regions.unary("listRegions", {}, { deadline: 2000 })).rejects.toMatchObject({ code: 14 });
  });

  it("a stop requested while the server is starting still prints the handshake, then stops", async () => {
    const { proc, output, exits } = standInProcess({ ...cookie, PLUGIN_UNIX_SOCKET_DIR: socketDir() });
    const serving = serveWith(inProcessDefinition, {}, proc);
    proc.signal("SIGTERM");
    await serving;
    expect(output.stdout).toMatch(/^1\|1\|unix\|[^|]+\|grpc\|\n$/);
    await expect.poll(() => exits).toEqual([0]);
  });

  it("exits 0 after a stop even when stderr never drains", async () => {
    const { proc, exits } = standInProcess({ ...cookie, PLUGIN_UNIX_SOCKET_DIR: socketDir() }, { stuckStderr: true });
    const serving = serveWith(inProcessDefinition, {}, proc);
    proc.signal("SIGTERM");
    await serving;
    await expect.poll(() => exits).toEqual([0]);
  });

  it("a startup error is written as is, without a stack, and exits 1 with stdout restored", async () => {
    const { proc, output, exits } = standInProcess({ ...cookie, PLUGIN_PROTOCOL_VERSIONS: "2,3" });
    await serveWith(inProcessDefinition, {}, proc);
    expect(exits).toEqual([1]);
    expect(output.stdout).toBe("");
    expect(output.stderr).toMatch(/no protocol version in common.*2,3.*speaks 1/);
    expect(output.stderr).not.toContain("failed to start");
    expect(output.stderr).not.toMatch(/\n\s+at /);
    expect(output.stderr.endsWith("\n")).toBe(true);
    expect(proc.stdout.write("restored\n")).toBe(false);
    expect(output.stdout).toBe("restored\n");
  });

  it("any other error at start is reported with its stack, and exits 1", async () => {
    const { proc, output, exits } = standInProcess({ ...cookie, PLUGIN_UNIX_SOCKET_DIR: socketDir() });
    const broken = {
      name: "broken",
      version: "1.0.0",
      get provider(): never {
        throw new Error("definition exploded");
      },
    } as unknown as PluginDefinition;
    await serveWith(broken, {}, proc);
    expect(exits).toEqual([1]);
    expect(output.stdout).toBe("");
    expect(output.stderr).toMatch(/^plugin failed to start: Error: definition exploded\n\s+at /);
  });
});
