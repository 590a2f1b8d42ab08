/**
 * Issue 4 item 7b: a Go host built with HashiCorp go-plugin (go/cmd/gohost:
 * plugin.NewClient, gRPC allowed, Flotilla's magic cookie) runs a TypeScript
 * plugin served by @flotilla/plugin-sdk, checks health, reads the registry,
 * makes one call, receives the plugin's stdout through plugin.GRPCStdio, and
 * Kill()s it: Shutdown must end the plugin before go-plugin's 2 s force-kill,
 * and no process may remain.
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { killProcessesWithArgument, processesWithArgument } from "./fixtures/proc-scan.js";
import { runCommand } from "./run-command.js";
import { type GoToolchain, prepareGo } from "./toolchain.js";

const TOOLCHAIN_TIMEOUT = 25 * 60_000;

/** The gohost report (see go/cmd/gohost/main.go). */
interface GoHostReport {
  protocol?: string;
  negotiatedVersion?: number;
  autoMTLS: boolean;
  startError?: string;
  pingError?: string;
  health?: string;
  healthError?: string;
  registry?: { pluginName: string; protocolVersion: number; services?: string[]; sdk?: string };
  registryError?: string;
  describe?: { name: string; version: string; capabilities?: string[] };
  describeError?: string;
  regions?: { regions: { id: string; displayName: string; available?: boolean }[] };
  regionsError?: string;
  job?: {
    handle?: { provider: string; jobId: string };
    lines: string[];
    status?: { state: string; exitCode?: number; reason?: string };
    exitCodeKnown: boolean;
    exitCode: number;
    error?: string;
  };
  pluginPid?: number;
  killMillis: number;
  forcedKill: boolean;
  exitedAfterKill: boolean;
  pidAliveAfterKill: boolean;
  pluginStdout: string;
  pluginStderr: string;
  hostLog: string;
}

/** A compiled file, relative to this package's directory, checked to exist. */
function compiled(relativePath: string): string {
  const path = fileURLToPath(new URL(`../${relativePath}`, import.meta.url));
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`tsc -b\` at the repository root first`);
  return path;
}

function compiledFixture(): string {
  return compiled("dist/fixtures/ts-region-plugin.js");
}

describe("a Go go-plugin host runs a TypeScript plugin", () => {
  let go: GoToolchain;
  const markers: string[] = [];
  beforeAll(async () => {
    go = await prepareGo();
  }, TOOLCHAIN_TIMEOUT);
  afterEach(async () => {
    for (const marker of markers.splice(0)) await killProcessesWithArgument(marker);
  });

  async function runGoHost(
    autoMTLS: boolean,
    extraFlags: string[] = [],
    plugin = compiledFixture(),
  ): Promise<{ report: GoHostReport; marker: string }> {
    const marker = `ts-plugin-${randomUUID()}`;
    markers.push(marker);
    const { stdout } = await runCommand(
      go.programs.gohost,
      [`-automtls=${autoMTLS}`, ...extraFlags, "--", process.execPath, plugin, marker],
      { timeoutMs: 120_000 },
    );
    return { report: JSON.parse(stdout) as GoHostReport, marker };
  }

  async function expectFullConversation(autoMTLS: boolean) {
    const { report, marker } = await runGoHost(autoMTLS);
    const context = `gohost report:\n${JSON.stringify({ ...report, hostLog: undefined }, null, 2)}\n${report.hostLog}`;
    expect(report.startError, context).toBeUndefined();
    expect(report.protocol).toBe("grpc");
    expect(report.negotiatedVersion).toBe(1);
    expect(report.autoMTLS).toBe(autoMTLS);
    expect(report.pingError).toBeUndefined();
    expect(report.health).toBe("SERVING");
    expect(report.registry).toMatchObject({
      pluginName: "ts-regions",
      protocolVersion: 1,
      services: ["flotilla.plugin.v1.RegionListerService"],
    });
    expect(report.registry?.sdk).toMatch(/^@flotilla\/plugin-sdk /);
    expect(report.describe).toMatchObject({ name: "ts-regions", version: "0.2.0" });
    expect(report.regions).toEqual({
      regions: [{ id: "ts-east-1", displayName: "TypeScript East", available: true }],
    });
    // console.log in a handler reached the Go host through plugin.GRPCStdio.
    expect(report.pluginStdout).toContain(`ts-region-plugin ${marker}: listing regions`);
    // The SDK logger's records arrive as hclog JSON lines that go-plugin parses.
    // (hclog prints the fields in map order, so look for each in that line.)
    const logLine = report.hostLog.split("\n").find((line) => line.includes("gohost.node: listing regions:"));
    expect(logLine, report.hostLog).toBeDefined();
    expect(logLine).toContain("@module=ts-regions");
    expect(logLine).toContain("count=1");
    // Kill(): GRPCController.Shutdown ended the plugin; go-plugin did not have to force-kill it.
    expect(report.forcedKill, context).toBe(false);
    expect(report.exitedAfterKill).toBe(true);
    expect(report.pluginPid).toBeGreaterThan(0);
    expect(report.pidAliveAfterKill).toBe(false);
    expect(await processesWithArgument(marker)).toEqual([]);
  }

  it("over plain gRPC: health, registry, one call, stdio, clean shutdown", async () => {
    await expectFullConversation(false);
  }, 180_000);

  // go-plugin's AutoMTLS: the Go host sets PLUGIN_CLIENT_CERT, requires the
  // server certificate as unpadded base64 in the handshake, and grpc-go
  // (≥ 1.67) insists on ALPN "h2" from the TypeScript TLS server.
  it("over AutoMTLS: health, registry, one call, stdio, clean shutdown", async () => {
    await expectFullConversation(true);
  }, 180_000);

  // go-plugin allows only net/rpc unless the host lists gRPC in
  // AllowedProtocols: a Go host that forgets it refuses every Flotilla plugin
  // with this message, which docs/other-languages.md points to.
  it("is refused by a Go host that did not allow gRPC, naming the protocol", async () => {
    const { report, marker } = await runGoHost(false, ["-netrpc-only"]);
    expect(report.startError).toMatch(/unsupported plugin protocol "grpc"/);
    expect(report.pidAliveAfterKill).toBe(false);
    expect(await processesWithArgument(marker)).toEqual([]);
  }, 180_000);

  // The product's main job, driven from Go: @flotilla/plugin-local (the real
  // provider, not a fixture) under a go-plugin host runs a process, streams
  // its log lines over a server stream, and reports its real exit code.
  it("runs the main job through @flotilla/plugin-local: RunJob, followed JobLogs, the real exit code", async () => {
    const job = JSON.stringify(["sh", "-c", "echo hello from go; echo to stderr >&2; exit 3"]);
    const { report, marker } = await runGoHost(true, ["-job", job], compiled("../plugin-local/dist/main.js"));
    const context = `gohost report:\n${JSON.stringify({ ...report, hostLog: undefined }, null, 2)}`;
    expect(report.startError, context).toBeUndefined();
    expect(report.registry?.services).toContain("flotilla.plugin.v1.IaCProviderRunnerService");
    expect(report.job?.error, context).toBeUndefined();
    expect(report.job?.handle?.provider).toBe("local");
    // stdout and stderr are separate pipes, so only each one's own order is defined.
    expect([...(report.job?.lines ?? [])].sort()).toEqual(["hello from go", "to stderr"]);
    expect(report.job?.status?.state).toBe("JOB_STATE_FAILED");
    expect(report.job?.exitCodeKnown).toBe(true);
    expect(report.job?.exitCode).toBe(3);
    expect(report.forcedKill, context).toBe(false);
    expect(report.pidAliveAfterKill).toBe(false);
    expect(await processesWithArgument(marker)).toEqual([]);
  }, 180_000);
});
