import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { goplugin } from "@flotilla/protocol/wire";
import { eventually, processesMatching } from "@flotilla/test-support";
import { afterAll, afterEach, describe, expect, it, onTestFinished, vi } from "vitest";
import { fakePluginConfig, newMarker } from "./fixtures/fake-plugin.js";
import { ManagedPlugin, type PluginState, type SetTimer, setTimerWithTimeout } from "./managed-plugin.js";
import type { PluginError } from "./plugin-error.js";
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

/** A restart timer that fires only when the test says so, remembering the delay of every timer set. */
function manualTimer() {
  const timers: { delayMs: number; fire: () => void; cancelled: boolean }[] = [];
  const setRestartTimer: SetTimer = (callback, delayMs) => {
    const timer = { delayMs, fire: callback, cancelled: false };
    timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  };
  return { timers, setRestartTimer };
}

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

  it("restart() of a running plugin stops its process first, so no second process is left running", async () => {
    plugin = new ManagedPlugin(fakePluginConfig("ok", marker), { sink: () => {}, socketDir });
    await plugin.start();
    const first = plugin.current?.pid as number;
    await plugin.restart();
    expect(plugin.state).toBe("ready");
    expect(plugin.current?.pid).not.toBe(first);
    expect(processesMatching(marker).map((p) => p.pid)).toEqual([plugin.current?.pid]);
  });

  it("restart() of a stopped plugin starts it again", async () => {
    plugin = new ManagedPlugin(fakePluginConfig("ok", marker), { sink: () => {}, socketDir });
    await plugin.start();
    await plugin.stop();
    expect(plugin.state).toBe("stopped");
    await plugin.restart();
    expect(plugin.state).toBe("ready");
    expect(processesMatching(marker)).toHaveLength(1);
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

  it("waits the restart policy's backoff before restarting, and restarts once it has passed", async () => {
    const { timers, setRestartTimer } = manualTimer();
    plugin = new ManagedPlugin(
      fakePluginConfig("ok", marker, { restart: { initialDelayMs: 4000, multiplier: 3, jitter: 0 } }),
      { sink: () => {}, socketDir, setRestartTimer },
    );
    await plugin.start();
    const firstPid = plugin.current?.pid as number;
    const restarted = new Promise((resolve) => plugin?.once("restarted", resolve));
    process.kill(firstPid, "SIGKILL");
    await expect.poll(() => timers.length, { timeout: 10_000 }).toBe(1);
    expect(timers[0]?.delayMs).toBe(4000);
    // Until the timer fires there is no plugin process: the crashed one is gone and no new one was started.
    expect(await eventually(() => processesMatching(marker).length === 0)).toBe(true);
    expect(plugin.state).toBe("restarting");

    timers[0]?.fire();
    await restarted;
    expect(plugin.state).toBe("ready");
    const secondPid = plugin.current?.pid as number;
    expect(secondPid).not.toBe(firstPid);

    // The next crash within the window waits longer, as the policy says.
    process.kill(secondPid, "SIGKILL");
    await expect.poll(() => timers.length, { timeout: 10_000 }).toBe(2);
    expect(timers[1]?.delayMs).toBe(12_000);
  });

  it("stop() cancels a restart that is waiting out its backoff", async () => {
    const { timers, setRestartTimer } = manualTimer();
    plugin = new ManagedPlugin(fakePluginConfig("ok", marker, { restart: { initialDelayMs: 4000, jitter: 0 } }), {
      sink: () => {},
      socketDir,
      setRestartTimer,
    });
    await plugin.start();
    process.kill(plugin.current?.pid as number, "SIGKILL");
    await expect.poll(() => timers.length, { timeout: 10_000 }).toBe(1);
    await plugin.stop();
    expect(timers[0]?.cancelled).toBe(true);
    expect(plugin.state).toBe("stopped");
  });

  it("reports a restart that cannot start the plugin, and tries again after the next backoff", async () => {
    const { timers, setRestartTimer } = manualTimer();
    // The plugin's executable is a link that the test removes after the first start, so the restart fails.
    const dir = mkdtempSync(join(tmpdir(), "fl-restart-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const executable = join(dir, "node");
    symlinkSync(process.execPath, executable);
    plugin = new ManagedPlugin(
      fakePluginConfig("ok", marker, {
        command: executable,
        restart: { initialDelayMs: 4000, multiplier: 3, jitter: 0 },
      }),
      { sink: () => {}, socketDir, setRestartTimer },
    );
    await plugin.start();
    rmSync(executable);
    const failures: PluginError[] = [];
    plugin.on("restart-failed", (error) => failures.push(error));
    process.kill(plugin.current?.pid as number, "SIGKILL");
    await expect.poll(() => timers.length, { timeout: 10_000 }).toBe(1);
    timers[0]?.fire();
    await expect.poll(() => timers.length, { timeout: 10_000 }).toBe(2);
    expect(failures).toHaveLength(1);
    expect(failures[0]?.phase).toBe("spawn");
    expect(plugin.error).toBe(failures[0]);
    expect(plugin.state).toBe("restarting");
    // A failed restart counts as a crash: the next attempt waits longer.
    expect(timers[1]?.delayMs).toBe(12_000);
    expect(processesMatching(marker)).toEqual([]);

    symlinkSync(process.execPath, executable);
    const restarted = new Promise((resolve) => plugin?.once("restarted", resolve));
    timers[1]?.fire();
    await restarted;
    expect(plugin.state).toBe("ready");
  });

  it("restart() from a crash loop starts the plugin again without stopping anything first", async () => {
    plugin = new ManagedPlugin(fakePluginConfig("ok", marker, { restart: { enabled: false } }), {
      sink: () => {},
      socketDir,
    });
    await plugin.start();
    process.kill(plugin.current?.pid as number, "SIGKILL");
    expect(await eventually(() => plugin?.state === "crash-loop")).toBe(true);
    const states: PluginState[] = [];
    plugin.on("state", (s) => states.push(s));
    await plugin.restart();
    // Straight from crash-loop to starting: a stop would have passed through "stopping".
    expect(states).toEqual(["stopped", "starting", "ready"]);
    expect(processesMatching(marker).map((p) => p.pid)).toEqual([plugin.current?.pid]);
  });

  it("sets no restart timer once it gives up in a crash loop", async () => {
    const { timers, setRestartTimer } = manualTimer();
    plugin = new ManagedPlugin(
      fakePluginConfig("ok", marker, { restart: { initialDelayMs: 4000, jitter: 0, maxCrashes: 2 } }),
      { sink: () => {}, socketDir, setRestartTimer },
    );
    await plugin.start();
    const restarted = new Promise((resolve) => plugin?.once("restarted", resolve));
    process.kill(plugin.current?.pid as number, "SIGKILL");
    await expect.poll(() => timers.length, { timeout: 10_000 }).toBe(1);
    timers[0]?.fire();
    await restarted;
    const crashLoop = new Promise((resolve) => plugin?.once("crash-loop", resolve));
    process.kill(plugin.current?.pid as number, "SIGKILL");
    await crashLoop;
    expect(plugin.state).toBe("crash-loop");
    expect(timers).toHaveLength(1);
  });
});

describe("setTimerWithTimeout", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("fires after the delay it was given, not before, and not at all once cancelled", () => {
    vi.useFakeTimers();
    const fired: string[] = [];
    setTimerWithTimeout(() => fired.push("kept"), 4000);
    const cancel = setTimerWithTimeout(() => fired.push("cancelled"), 4000);
    cancel();
    vi.advanceTimersByTime(3999);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(["kept"]);
    vi.runAllTimers();
    expect(fired).toEqual(["kept"]);
  });
});
