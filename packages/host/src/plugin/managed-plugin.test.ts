import { goplugin } from "@flotilla/protocol";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { fakePluginConfig, newMarker } from "./fixtures/fake-plugin.js";
import { eventually, processesMatching } from "./fixtures/proc-scan.js";
import { ManagedPlugin, type PluginState } from "./managed-plugin.js";
import { createSocketDir, removeSocketDir } from "./socket-dir.js";

const socketDir = createSocketDir();
let marker = newMarker();
let plugin: ManagedPlugin | undefined;

afterEach(async () => {
  await plugin?.stop();
  expect(await eventually(() => processesMatching(marker).length === 0)).toBe(true);
  marker = newMarker();
});

afterAll(() => removeSocketDir(socketDir));

describe("ManagedPlugin", () => {
  it("moves through its states and can be restarted by hand after giving up", async () => {
    plugin = new ManagedPlugin(fakePluginConfig("ok", marker, { name: "once", restart: { enabled: false } }), {
      sink: () => {},
      socketDir,
    });
    const states: PluginState[] = [];
    plugin.on("state", (s) => states.push(s));
    await plugin.start();
    process.kill(plugin.current?.pid as number, "SIGKILL");
    expect(await eventually(() => plugin?.state === "crash-loop")).toBe(true);
    expect(plugin.error?.message).toContain("was killed by SIGKILL and restarts are disabled");
    await plugin.restart();
    expect(plugin.state).toBe("ready");
    expect(states.slice(0, 3)).toEqual(["starting", "ready", "crash-loop"]);
  });

  it("refuses to start twice", async () => {
    plugin = new ManagedPlugin(fakePluginConfig("ok", marker), { sink: () => {}, socketDir });
    await plugin.start();
    await expect(plugin.start()).rejects.toThrow(/is ready; start\(\) only applies to a plugin that is not running/);
  });

  it("fails a stream in flight with a retriable UnavailableError when the plugin dies mid-stream", async () => {
    plugin = new ManagedPlugin(fakePluginConfig("ok", marker, { restart: { enabled: false } }), {
      sink: () => {},
      socketDir,
    });
    await plugin.start();
    const pid = plugin.current?.pid as number;
    const consumed = (async () => {
      for await (const _ of plugin.serverStream(goplugin.GRPCStdio.method.streamStdio, {})) {
        process.kill(pid, "SIGKILL");
      }
    })();
    await expect(consumed).rejects.toThrow(
      /plugin "fake-ok" was killed by SIGKILL while the call was in flight; retry the call/,
    );
  });
});
