import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { BASE_ENV_KEYS, MAGIC_COOKIE } from "@flotilla/protocol/wire";
import { describe, expect, it, onTestFinished } from "vitest";
import { STDIN_LIFELINE_ENV } from "../lifecycle.js";
import { compiledFixture } from "./fixtures/fixture-path.js";
import { hostEnvironment, PluginSpawnError, spawnPlugin } from "./spawn-plugin.js";

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

/** A stand-in plugin: a node script that makes its own socket directory and prints a handshake for it. */
function scriptPlugin(body: string): string[] {
  return [
    "-e",
    `const fs = require("node:fs");
     const dir = fs.mkdtempSync("/tmp/flp-");
     const handshake = "1|1|unix|" + dir + "/plugin.sock|grpc|";
     ${body}`,
  ];
}

describe("spawnPlugin, in detail", () => {
  it("PluginSpawnError keeps the last 20 lines of stderr, its name and the exit code", () => {
    const stderr = Array.from({ length: 25 }, (_, i) => `line ${i + 1}`).join("\n");
    const err = new PluginSpawnError("it failed", stderr, 7);
    expect(err.name).toBe("PluginSpawnError");
    expect(err.exitCode).toBe(7);
    expect(err.stderr).toBe(stderr);
    expect(err.message).toBe(
      `it failed\n--- plugin stderr ---\n${Array.from({ length: 20 }, (_, i) => `line ${i + 6}`).join("\n")}`,
    );
  });

  it("hostEnvironment gives what a host gives — its base, cookie, protocol 1, stdin lifeline — and drops undefined keys", () => {
    const base = Object.fromEntries(
      BASE_ENV_KEYS.flatMap((key) => (process.env[key] === undefined ? [] : [[key, process.env[key]]])),
    );
    expect(hostEnvironment()).toEqual({
      ...base,
      PATH: process.env.PATH,
      [MAGIC_COOKIE.key]: MAGIC_COOKIE.value,
      PLUGIN_PROTOCOL_VERSIONS: "1",
      [STDIN_LIFELINE_ENV]: "1",
    });
    // Nothing else of this process leaks in, and no socket directory is imposed.
    expect(Object.keys(hostEnvironment())).not.toContain("PLUGIN_UNIX_SOCKET_DIR");
    const env = hostEnvironment({ [STDIN_LIFELINE_ENV]: undefined, EXTRA: "x", PLUGIN_PROTOCOL_VERSIONS: "2,1" });
    expect(Object.keys(env)).not.toContain(STDIN_LIFELINE_ENV);
    expect(env).toMatchObject({ EXTRA: "x", PLUGIN_PROTOCOL_VERSIONS: "2,1" });
  });

  it("waits for the whole first line, however it is split, and keeps what follows as stdout", async () => {
    const plugin = await spawnPlugin(
      process.execPath,
      scriptPlugin(`process.stdout.write(handshake.slice(0, 5));
       setTimeout(() => process.stdout.write(handshake.slice(5) + "\\nafter"), 200);
       setTimeout(() => process.stdout.write(" the line\\n"), 400);
       setInterval(() => {}, 1000);`),
    );
    onTestFinished(() => plugin.kill());
    expect(plugin.handshakeLine).toMatch(/^1\|1\|unix\|\/tmp\/flp-[^/]+\/plugin\.sock\|grpc\|$/);
    await expect.poll(() => plugin.stdout()).toBe("after the line\n");
  });

  it("an empty first line is a bad handshake, not a reason to wait", async () => {
    const err = await spawnPlugin(process.execPath, ["-e", "console.log(''); setInterval(() => {}, 1000)"], {
      handshakeTimeoutMs: 60_000,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(PluginSpawnError);
    expect(err.message).not.toContain("no handshake line");
  });

  it("runs the plugin in its own process group, and kill() kills the whole group and removes the socket directory", async () => {
    const plugin = await spawnPlugin(
      process.execPath,
      scriptPlugin(`const { spawn } = require("node:child_process");
       const grandchild = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
       console.log(handshake);
       console.error("grandchild " + grandchild.pid);
       setInterval(() => {}, 1000);`),
    );
    await expect.poll(() => plugin.stderr()).toMatch(/grandchild \d+/);
    const grandchild = Number(/grandchild (\d+)/.exec(plugin.stderr())?.[1]);
    const pid = plugin.child.pid as number;
    // Field 5 of /proc/<pid>/stat is the process group.
    const group = (p: number) => Number(readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1]?.split(" ")[2]);
    expect(group(pid)).toBe(pid);
    expect(group(grandchild)).toBe(pid);
    plugin.kill();
    expect((await plugin.exited).signal).toBe("SIGKILL");
    await expect
      .poll(() => existsSync(`/proc/${grandchild}`) && !/\) Z /.test(readFileSync(`/proc/${grandchild}/stat`, "utf8")))
      .toBe(false);
    expect(existsSync(dirname(plugin.handshake.address))).toBe(false);
  });

  it("stop() sends SIGTERM, returns the exit code, and removes the socket directory the plugin left", async () => {
    const plugin = await spawnPlugin(
      process.execPath,
      scriptPlugin(`process.on("SIGTERM", () => process.exit(4));
       console.log(handshake);
       setInterval(() => {}, 1000);`),
    );
    const dir = dirname(plugin.handshake.address);
    expect(existsSync(dir)).toBe(true);
    expect(await plugin.stop()).toBe(4);
    expect(existsSync(dir)).toBe(false);
  });

  it("a plugin that ignores SIGTERM is killed once the grace period is over", async () => {
    const plugin = await spawnPlugin(
      process.execPath,
      scriptPlugin(`process.on("SIGTERM", () => {});
       console.log(handshake);
       setInterval(() => {}, 1000);`),
    );
    expect(await plugin.stop(200)).toBeNull();
    expect((await plugin.exited).signal).toBe("SIGKILL");
  });

  it("kills a plugin that gives no handshake in time", async () => {
    const child: { pid?: number } = {};
    const err = await spawnPlugin(
      process.execPath,
      ["-e", "console.error('pid ' + process.pid); setInterval(() => {}, 1000)"],
      { handshakeTimeoutMs: 4_000 },
    ).catch((e) => e);
    expect(err.message).toMatch(/^no handshake line within 4000 ms\n--- plugin stderr ---\n/);
    child.pid = Number(/pid (\d+)/.exec(err.stderr)?.[1]);
    expect(child.pid).toBeGreaterThan(0);
    await expect
      .poll(() => existsSync(`/proc/${child.pid}`) && !/\) Z /.test(readFileSync(`/proc/${child.pid}/stat`, "utf8")))
      .toBe(false);
  });

  it("once the handshake is read, the handshake timeout no longer applies", async () => {
    // The plugin prints its handshake at once (well within 5 s) and exits on its own 8 s after it started, so
    // its exit comes after the handshake timer would have fired: it must exit 0, not be killed by that timer.
    const plugin = await spawnPlugin(
      process.execPath,
      scriptPlugin(`console.log(handshake);
       setTimeout(() => process.exit(0), 8_000);`),
      { handshakeTimeoutMs: 5_000 },
    );
    onTestFinished(() => plugin.kill());
    expect(await plugin.exited).toEqual({ code: 0, signal: null });
  }, 30_000);

  it("kill() never removes a socket directory the host chose (only the SDK's own flp- directories)", async () => {
    const chosen = mkdtempSync("/tmp/host-chosen-");
    onTestFinished(() => rmSync(chosen, { recursive: true, force: true }));
    const plugin = await spawnPlugin(process.execPath, [
      "-e",
      `console.log("1|1|unix|${chosen}/plugin.sock|grpc|"); setInterval(() => {}, 1000);`,
    ]);
    plugin.kill();
    await plugin.exited;
    expect(existsSync(chosen)).toBe(true);
  });
});
