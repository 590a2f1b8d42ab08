/**
 * Issue 4 item 7a, the wire itself: a Go plugin built with HashiCorp
 * go-plugin and the buf-generated Go stubs (go/cmd/regionplugin) speaks what
 * Flotilla's side expects, checked with nothing but @flotilla/protocol's
 * handshake parser, its generated descriptors and @grpc/grpc-js: the
 * handshake line, health for "plugin", the registry (exactly one optional
 * service), the services it lists, plugin.GRPCStdio and
 * plugin.GRPCController/Shutdown. go-plugin-under-host.test.ts runs the same
 * plugin under Flotilla's own host.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID, X509Certificate } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import {
  ContractRegistryService,
  IaCProviderRunnerService,
  IaCProviderService,
  RegionListerService,
} from "@flotilla/protocol";
import {
  goplugin,
  type Handshake,
  HEALTH_SERVICE_NAME,
  health,
  MAGIC_COOKIE,
  parseHandshake,
} from "@flotilla/protocol/wire";
import { credentials, status } from "@grpc/grpc-js";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { killProcessesWithArgument, processesWithArgument } from "./fixtures/proc-scan.js";
import { runCommand } from "./run-command.js";
import { type GoToolchain, prepareGo } from "./toolchain.js";
import { WireClient } from "./wire-client.js";

const TOOLCHAIN_TIMEOUT = 25 * 60_000;

interface StartedPlugin {
  child: ChildProcess;
  handshake: Handshake;
  client: WireClient;
  marker: string;
  exited: Promise<number | null>;
  stderr: string[];
}

describe("a Go go-plugin plugin on the wire", () => {
  let go: GoToolchain;
  const started: StartedPlugin[] = [];
  // Every marker handed out, so a plugin that hangs before its handshake is killed too.
  const markers: string[] = [];
  const socketDirs: string[] = [];

  beforeAll(async () => {
    go = await prepareGo();
  }, TOOLCHAIN_TIMEOUT);

  afterEach(async () => {
    for (const plugin of started.splice(0)) plugin.client.close();
    for (const marker of markers.splice(0)) await killProcessesWithArgument(marker);
    for (const dir of socketDirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  async function startPlugin(
    extraEnv: Record<string, string> = {},
    channelCredentials = credentials.createInsecure(),
  ): Promise<StartedPlugin & { handshakeLine: string }> {
    // A short socket directory: Unix socket paths are capped at about 108 bytes.
    const socketDir = await mkdtemp("/tmp/flotilla-go-");
    socketDirs.push(socketDir);
    const marker = `go-plugin-${randomUUID()}`;
    markers.push(marker);
    const child = spawn(go.programs.regionplugin, [marker], {
      env: {
        PATH: process.env.PATH ?? "",
        [MAGIC_COOKIE.key]: MAGIC_COOKIE.value,
        PLUGIN_PROTOCOL_VERSIONS: "1",
        PLUGIN_UNIX_SOCKET_DIR: socketDir,
        ...extraEnv,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const stderr: string[] = [];
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", (line) => stderr.push(line));
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const firstLine = await new Promise<string>((resolve, reject) => {
      lines.once("line", resolve);
      child.once("exit", (code) =>
        reject(new Error(`regionplugin exited (${code}) before its handshake:\n${stderr.join("\n")}`)),
      );
    });
    const handshake = parseHandshake(firstLine);
    // go-plugin's server certificate names "localhost", not the socket path.
    const client = new WireClient(`unix:${handshake.address}`, channelCredentials, {
      "grpc.ssl_target_name_override": "localhost",
    });
    const plugin = { child, handshake, client, marker, exited, stderr };
    started.push(plugin);
    return { ...plugin, handshakeLine: firstLine };
  }

  it("prints a go-plugin handshake line that Flotilla's parser accepts", async () => {
    const { handshake } = await startPlugin();
    expect(handshake).toMatchObject({
      coreProtocolVersion: 1,
      appProtocolVersion: 1,
      network: "unix",
      protocol: "grpc",
    });
    expect(handshake.serverCertDer).toBeUndefined();
    expect(handshake.address).toMatch(/^\/tmp\/flotilla-go-/);
  }, 60_000);

  it('answers health for "plugin", advertises exactly RegionLister, and serves what it advertises', async () => {
    const { client } = await startPlugin();
    const checked = await client.unary(health.Health.method.check, { service: HEALTH_SERVICE_NAME });
    expect(checked.status).toBe(health.HealthCheckResponse_ServingStatus.SERVING);

    const { registry } = await client.unary(ContractRegistryService.method.getContractRegistry, {});
    expect(registry).toMatchObject({
      pluginName: "go-regions",
      protocolVersion: 1,
      services: [RegionListerService.typeName],
    });

    await client.unary(IaCProviderService.method.configure, { configJson: new TextEncoder().encode("{}") });
    const described = await client.unary(IaCProviderService.method.describe, {});
    expect(described.name).toBe("go-regions");
    expect(described.capabilities).toContain("configured");

    const listed = await client.unary(RegionListerService.method.listRegions, {});
    expect(listed.regions.map((r) => [r.id, r.displayName, r.available])).toEqual([
      ["go-north-1", "Go North", true],
      ["go-south-1", "Go South", false],
    ]);

    // A service the registry does not list is not served either.
    await expect(client.unary(IaCProviderRunnerService.method.runJob, {})).rejects.toMatchObject({
      code: status.UNIMPLEMENTED,
    });
  }, 60_000);

  it("blocks a chatty Go plugin until the host consumes plugin.GRPCStdio, which is why hosts must", async () => {
    const chattyBytes = 1024 * 1024; // far beyond a pipe's 64 KiB buffer
    const { client } = await startPlugin({ REGIONPLUGIN_STDOUT_BYTES: String(chattyBytes) });
    // Nobody reads the stdio stream yet: ListRegions's stdout writes block,
    // so a call that normally takes milliseconds stays pending.
    let settled = false;
    const blocked = client.unary(RegionListerService.method.listRegions, {}, { deadlineMs: 120_000 }).finally(() => {
      settled = true;
    });
    await sleep(2000);
    expect(settled).toBe(false);

    // Reading plugin.GRPCStdio unblocks the very same call.
    let stdoutBytes = 0;
    const stdio = client.serverStream(goplugin.GRPCStdio.method.streamStdio, {});
    stdio.on("data", (chunk: goplugin.StdioData) => {
      if (chunk.channel === goplugin.StdioData_Channel.STDOUT) stdoutBytes += chunk.data.byteLength;
    });
    stdio.on("error", () => {
      // Cancelled when the test closes the client.
    });
    const listed = await blocked;
    expect(listed.regions).toHaveLength(2);
    await vi.waitFor(() => expect(stdoutBytes).toBeGreaterThanOrEqual(chattyBytes), { timeout: 30_000 });
    stdio.cancel();
  }, 90_000);

  it("serves go-plugin AutoMTLS: unpadded certificate in the handshake, pinned both ways", async () => {
    const host = JSON.parse((await runCommand(go.programs.clientcert, [])).stdout) as {
      certPem: string;
      keyPem: string;
    };
    // The server certificate is only known after the handshake, so the
    // client's root is set afterwards: connect lazily, with a second client.
    const { handshake, handshakeLine, client } = await startPlugin({ PLUGIN_CLIENT_CERT: host.certPem });
    client.close();
    const certField = handshakeLine.split("|")[5] ?? "";
    expect(certField.length).toBeGreaterThan(50);
    expect(certField).not.toContain("=");
    expect(handshake.serverCertDer).toBeDefined();
    const serverCertPem = new X509Certificate(Buffer.from(handshake.serverCertDer ?? [])).toString();

    const pinned = new WireClient(
      `unix:${handshake.address}`,
      credentials.createSsl(Buffer.from(serverCertPem), Buffer.from(host.keyPem), Buffer.from(host.certPem)),
      { "grpc.ssl_target_name_override": "localhost" },
    );
    try {
      const checked = await pinned.unary(health.Health.method.check, { service: HEALTH_SERVICE_NAME });
      expect(checked.status).toBe(health.HealthCheckResponse_ServingStatus.SERVING);
      const listed = await pinned.unary(RegionListerService.method.listRegions, {});
      expect(listed.regions.map((r) => r.id)).toEqual(["go-north-1", "go-south-1"]);
    } finally {
      pinned.close();
    }

    // A client without the pinned certificate is refused.
    const stranger = new WireClient(`unix:${handshake.address}`, credentials.createSsl(Buffer.from(serverCertPem)), {
      "grpc.ssl_target_name_override": "localhost",
    });
    try {
      await expect(
        stranger.unary(RegionListerService.method.listRegions, {}, { deadlineMs: 10_000 }),
      ).rejects.toMatchObject({ code: status.UNAVAILABLE });
    } finally {
      stranger.close();
    }
  }, 60_000);

  it("exits when asked through plugin.GRPCController/Shutdown, leaving no process", async () => {
    const plugin = await startPlugin();
    await plugin.client.unary(goplugin.GRPCController.method.shutdown, {}).catch(() => {
      // go-plugin stops its server inside the call, so the reply may be cut off.
    });
    const code = await plugin.exited;
    expect(code, plugin.stderr.join("\n")).toBe(0);
    expect(await processesWithArgument(plugin.marker)).toEqual([]);
  }, 60_000);
});
