import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { describe, expect, it } from "vitest";
import { compiledFixture } from "./fixtures/fixture-path.js";
import { PluginSpawnError, spawnPlugin } from "./spawn-plugin.js";

describe("spawnPlugin", () => {
  it("reports a plugin that exits before its handshake with its exit code and stderr", async () => {
    const err = await spawnPlugin(process.execPath, ["-e", "console.error('config missing'); process.exit(3)"]).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(PluginSpawnError);
    expect(err.exitCode).toBe(3);
    expect(err.message).toContain("exited with code 3 before its handshake");
    expect(err.message).toContain("config missing");
  });

  it("rejects a garbage first line, quoting it, and kills the process", async () => {
    const err = await spawnPlugin(process.execPath, [
      "-e",
      "console.log('hello world'); setInterval(() => {}, 1000)",
    ]).catch((e) => e);
    expect(err).toBeInstanceOf(PluginSpawnError);
    expect(err.message).toContain('"hello world"');
  });

  it("gives up after the handshake timeout", async () => {
    const err = await spawnPlugin(process.execPath, ["-e", "setInterval(() => {}, 1000)"], {
      handshakeTimeoutMs: 300,
    }).catch((e) => e);
    expect(err.message).toContain("no handshake line within 300 ms");
  });

  it("stop() ends a plugin gracefully with its exit code; kill() also removes a killed plugin's socket directory", async () => {
    const graceful = await spawnPlugin(process.execPath, [compiledFixture("fixture-plugin")]);
    expect(await graceful.stop()).toBe(0);
    expect(existsSync(dirname(graceful.handshake.address))).toBe(false);

    const killed = await spawnPlugin(process.execPath, [compiledFixture("fixture-plugin")]);
    killed.kill();
    await killed.exited;
    expect(existsSync(dirname(killed.handshake.address))).toBe(false);
  });
});
