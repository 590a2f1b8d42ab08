/**
 * Issue 4 item 7a under Flotilla's own host: the Go plugin built with
 * HashiCorp go-plugin and the buf-generated Go stubs (go/cmd/regionplugin)
 * is started by @flotilla/host's PluginHost like any plugin — handshake,
 * AutoMTLS (the host's default), health, registry, Configure — and called
 * through the provider client, whose accessors follow the Go plugin's
 * registry: regionLister() exists, runner() does not.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { PluginHost, type PluginLogRecord } from "@flotilla/host";
import { runConformance } from "@flotilla/plugin-sdk/testing";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { killProcessesWithArgument, processesWithArgument } from "./fixtures/proc-scan.js";
import { type GoToolchain, prepareGo } from "./toolchain.js";

const TOOLCHAIN_TIMEOUT = 25 * 60_000;

describe("a Go go-plugin plugin under Flotilla's host", () => {
  let go: GoToolchain;
  let host: PluginHost | undefined;
  let marker = "";
  let records: PluginLogRecord[] = [];

  beforeAll(async () => {
    go = await prepareGo();
  }, TOOLCHAIN_TIMEOUT);

  afterEach(async () => {
    await host?.stop();
    host = undefined;
    if (marker) await killProcessesWithArgument(marker);
    records = [];
  });

  async function startGoPlugin(autoMtls: boolean, env: Record<string, string> = {}): Promise<PluginHost> {
    marker = `go-plugin-${randomUUID()}`;
    host = new PluginHost({ logSink: (record) => records.push(record) });
    await host.start([
      {
        name: "go-regions",
        command: go.programs.regionplugin,
        args: [marker],
        autoMtls,
        env,
        config: { greeting: "hello from the host" },
        startTimeoutMs: 30_000,
      },
    ]);
    return host;
  }

  for (const autoMtls of [true, false]) {
    it(`starts it${autoMtls ? " with AutoMTLS" : " over plain gRPC"}, reads its registry, and calls what it advertises`, async () => {
      const h = await startGoPlugin(autoMtls);
      const provider = h.provider("go-regions");
      expect(provider.registry).toMatchObject({
        pluginName: "go-regions",
        protocolVersion: 1,
        services: ["flotilla.plugin.v1.RegionListerService"],
        sdk: "go-plugin (Go)",
      });
      // The host sent Configure during start; the Go plugin says so.
      const described = await provider.provider().describe({});
      expect(described.capabilities).toContain("configured");
      expect(described.capabilities).toContain("lang:go");

      expect(provider.runner()).toBeUndefined();
      expect(provider.resourceDriver()).toBeUndefined();
      const listed = await provider.regionLister()?.listRegions({});
      expect(listed?.regions.map((r) => [r.id, r.available])).toEqual([
        ["go-north-1", true],
        ["go-south-1", false],
      ]);
      // The plugin's stderr line reached the host's log sink, tagged with its name.
      expect(records.some((r) => r.plugin === "go-regions" && r.message.includes("go-regions 0.1.0 starting"))).toBe(
        true,
      );

      await h.stop();
      host = undefined;
      await vi.waitFor(async () => expect(await processesWithArgument(marker)).toEqual([]), { timeout: 10_000 });
    }, 120_000);
  }

  it("passes the conformance suite (`flotilla plugin test`), leaving when its host closes stdin, asks, or dies", async () => {
    marker = `go-plugin-${randomUUID()}`;
    const report = await runConformance(go.programs.regionplugin, [marker], { configJson: '{"greeting":"hi"}' });
    expect(report.checks.filter((check) => check.status === "failed")).toEqual([]);
    expect(report.passed).toBe(true);
    const detail = (name: string) => report.checks.find((check) => check.name === name);
    expect(detail("lists its optional services in its registry exactly as it serves them")).toMatchObject({
      status: "passed",
      detail: "go-regions 0.1.0: RegionLister",
    });
    expect(detail("refuses a malformed configuration with INVALID_ARGUMENT")?.status).toBe("passed");
    // go-plugin never watches its host; the example's hostWatch does, and exits as after a Shutdown.
    expect(detail("exits when its host closes its stdin (the host's lifeline)")).toMatchObject({
      status: "passed",
      detail: "exited with code 0",
    });
    expect(detail("shuts down when its host asks (GRPCController.Shutdown)")?.status).toBe("passed");
    expect(detail("exits when its host dies (host killed with SIGKILL)")?.status).toBe("passed");
  }, 120_000);

  it("fails the suite's host checks as a plain go-plugin plugin, which never notices its host going", async () => {
    marker = `go-plugin-${randomUUID()}`;
    const report = await runConformance(go.programs.regionplugin, [marker, "--ignore-host"], { settleMs: 2_000 });
    expect(report.checks.filter((check) => check.status === "failed").map((check) => check.name)).toEqual([
      "exits when its host closes its stdin (the host's lifeline)",
      "exits when its host dies (host killed with SIGKILL)",
    ]);
  }, 120_000);

  // go-plugin sends a Go plugin's stdout through plugin.GRPCStdio over
  // unbuffered channels: unless the host consumes that stream, a call that
  // prints more than a pipe holds never returns.
  it("consumes plugin.GRPCStdio, so a chatty Go plugin's calls complete and its output is logged", async () => {
    const chattyBytes = 1024 * 1024;
    const h = await startGoPlugin(true, { REGIONPLUGIN_STDOUT_BYTES: String(chattyBytes) });
    const listed = await h.provider("go-regions").regionLister()?.listRegions({}, { timeoutMs: 60_000 });
    expect(listed?.regions).toHaveLength(2);
    await vi.waitFor(
      () => {
        const stdioBytes = records
          .filter((r) => r.plugin === "go-regions" && r.source === "stdio")
          .reduce((sum, r) => sum + r.message.length + 1, 0);
        expect(stdioBytes).toBeGreaterThanOrEqual(chattyBytes);
      },
      { timeout: 30_000 },
    );
  }, 120_000);

  // go-plugin's plugins never watch their host (no stdin EOF, no parent
  // check), so when a host dies without stopping them only the host's own
  // group reaper can end them. A plugin that watches its host would exit by
  // itself and hide a missing reaper; the example run with --ignore-host, as
  // a plain go-plugin plugin, does not.
  it("does not outlive a host killed with SIGKILL, although it cannot notice its host going", async () => {
    marker = `go-plugin-${randomUUID()}`;
    const driverPath = fileURLToPath(new URL("../dist/fixtures/host-driver.js", import.meta.url));
    const driver = spawn(process.execPath, [driverPath, go.programs.regionplugin, marker, "--ignore-host"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const driverExited = new Promise((resolve) => driver.on("exit", resolve));
    let driverStderr = "";
    driver.stderr?.on("data", (chunk: Buffer) => {
      driverStderr += chunk.toString();
    });
    try {
      const ready = await new Promise<string>((resolve, reject) => {
        createInterface({ input: driver.stdout as NodeJS.ReadableStream }).once("line", resolve);
        driver.once("exit", (code) => reject(new Error(`host driver exited (${code}) before ready:\n${driverStderr}`)));
      });
      const pluginPid = Number(ready.split(" ")[1]);
      // The driver carries the marker too (it is in its argv), so look for the plugin among them.
      expect(await processesWithArgument(marker)).toContain(pluginPid);
      driver.kill("SIGKILL");
      await driverExited;
      await vi.waitFor(async () => expect(await processesWithArgument(marker)).toEqual([]), { timeout: 10_000 });
    } finally {
      driver.kill("SIGKILL");
    }
  }, 120_000);
});
