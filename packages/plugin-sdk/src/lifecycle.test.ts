import { spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isProcessAlive } from "@flotilla/process";
import { Code, IaCProviderService } from "@flotilla/protocol";
import { goplugin } from "@flotilla/protocol/wire";
import { afterEach, describe, expect, it } from "vitest";
import { type LifecycleOptions, type LifecycleTimers, STDIN_LIFELINE_ENV, watchLifecycle } from "./lifecycle.js";
import { compiledFixture } from "./testing/fixtures/fixture-path.js";
import { type PluginClient, pluginClient } from "./testing/plugin-client.js";
import { hostEnvironment, type SpawnedPlugin, spawnPlugin } from "./testing/spawn-plugin.js";

const fixture = compiledFixture("fixture-plugin");
const running: SpawnedPlugin[] = [];
const clients: { close(): void }[] = [];

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  for (const p of running.splice(0)) p.kill();
});

async function start(env: Record<string, string | undefined> = {}): Promise<SpawnedPlugin> {
  const plugin = await spawnPlugin(process.execPath, [fixture], { env });
  running.push(plugin);
  return plugin;
}

function provider(plugin: SpawnedPlugin): PluginClient<typeof IaCProviderService> {
  const c = pluginClient(plugin.handshake, IaCProviderService);
  clients.push(c);
  return c;
}

/** Waits until a just-started sleeping call is in its handler (the fixture logs "handler sleeping" there). */
async function letCallReachHandler(plugin: SpawnedPlugin): Promise<void> {
  await expect
    .poll(() => plugin.stderr(), { timeout: 15_000, interval: 20 })
    .toContain('"@message":"handler sleeping"');
  expect(plugin.child.exitCode).toBeNull();
}

describe("graceful shutdown", () => {
  it("GRPCController/Shutdown lets an in-flight call finish, then the plugin exits 0", async () => {
    const plugin = await start({ FIXTURE_GRACE_MS: "10000" });
    const inFlight = provider(plugin).unary("configure", {}, { metadata: { "x-sleep-ms": "1500" } });
    await letCallReachHandler(plugin);
    const controller = pluginClient(plugin.handshake, goplugin.GRPCController);
    clients.push(controller);
    await controller.unary("shutdown", {});
    await expect(inFlight).resolves.toBeDefined();
    expect((await plugin.exited).code).toBe(0);
    expect(plugin.stderr()).toContain('"@message":"handler finished sleeping"');
  });

  it("SIGTERM lets an in-flight call finish, then the plugin exits 0", async () => {
    const plugin = await start();
    const inFlight = provider(plugin).unary(
      "configure",
      {},
      { metadata: { "x-sleep-ms": "1000", "x-print-after-sleep": "printed during shutdown" } },
    );
    await letCallReachHandler(plugin);
    plugin.child.kill("SIGTERM");
    await expect(inFlight).resolves.toBeDefined();
    expect((await plugin.exited).code).toBe(0);
    // GRPCStdio has ended by then; the output falls back to the real stdout, which hosts read too.
    expect(plugin.stdout()).toBe("printed during shutdown\n");
    expect(plugin.stderr()).toMatch(/"cause":"signal","detail":"SIGTERM"/);
  });

  it("a call still running when the grace period ends sees its signal abort, and the plugin still exits", async () => {
    const plugin = await start({ FIXTURE_GRACE_MS: "500" });
    const inFlight = provider(plugin).unary("configure", {}, { metadata: { "x-sleep-ms": "60000" } });
    await letCallReachHandler(plugin);
    plugin.child.kill("SIGTERM");
    const err = await inFlight.catch((e) => e);
    expect(err.code).toBeTypeOf("number");
    expect(err.code).not.toBe(0);
    expect((await plugin.exited).code).toBe(0);
    expect(plugin.stderr()).toContain("the plugin is shutting down");
    expect(plugin.stderr()).toContain("did not finish within the grace period");
  });

  it("SIGTERM runs the definition's onShutdown hook and waits for it before exiting", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sdk-hook-"));
    try {
      const file = join(dir, "marker");
      const plugin = await start({ FIXTURE_SHUTDOWN_FILE: file, FIXTURE_SHUTDOWN_HOOK_MS: "500" });
      plugin.child.kill("SIGTERM");
      expect((await plugin.exited).code).toBe(0);
      expect(readFileSync(file, "utf8")).toBe("hook ran");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("stdin EOF (the host gone) runs the onShutdown hook too", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sdk-hook-"));
    try {
      const file = join(dir, "marker");
      const plugin = await start({ FIXTURE_SHUTDOWN_FILE: file, FIXTURE_SHUTDOWN_HOOK_MS: "300" });
      plugin.child.stdin?.end();
      expect((await plugin.exited).code).toBe(0);
      expect(readFileSync(file, "utf8")).toBe("hook ran");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("ignores SIGINT (the host decides when it stops), and keeps serving", async () => {
    const plugin = await start({ FLOTILLA_PLUGIN_LOG_LEVEL: "debug" });
    plugin.child.kill("SIGINT");
    await expect.poll(() => plugin.stderr()).toContain("SIGINT ignored");
    expect(plugin.child.exitCode).toBeNull();
    await expect(provider(plugin).unary("describe", {})).resolves.toMatchObject({ name: "fixture" });
  });

  it("refuses new calls once shutting down", async () => {
    const plugin = await start({ FIXTURE_GRACE_MS: "10000" });
    const c = provider(plugin);
    // The in-flight call outlives the polling below, so a refusal cannot come from the plugin having exited.
    const inFlight = c.unary("configure", {}, { metadata: { "x-sleep-ms": "5000" } });
    let inFlightSettled = false;
    void inFlight.then(
      () => (inFlightSettled = true),
      () => (inFlightSettled = true),
    );
    await letCallReachHandler(plugin);
    plugin.child.kill("SIGTERM");
    // SIGTERM is handled asynchronously: poll with a fresh connection until new calls are refused.
    const freshCallOutcome = async () => {
      const fresh = pluginClient(plugin.handshake, IaCProviderService);
      clients.push(fresh);
      return fresh.unary("describe", {}).then(
        () => "served",
        (e: { code?: unknown }) => e.code,
      );
    };
    await expect.poll(freshCallOutcome, { timeout: 4000, interval: 50 }).toBe(Code.Unavailable);
    expect(inFlightSettled, "the in-flight call ended before new calls were refused").toBe(false);
    expect(plugin.child.exitCode).toBeNull();
    await expect(inFlight).resolves.toBeDefined();
  });
});

describe("the host going away", () => {
  it("stdin closed (FLOTILLA_PLUGIN_STDIN_LIFELINE=1): the plugin exits by itself", async () => {
    const plugin = await start();
    plugin.child.stdin?.end();
    expect((await plugin.exited).code).toBe(0);
    expect(plugin.stderr()).toMatch(/"cause":"host-gone","detail":"stdin closed"/);
  });

  it("without the lifeline variable, stdin EOF is ignored (go-plugin hosts pass their own stdin)", async () => {
    const plugin = await start({ FLOTILLA_PLUGIN_STDIN_LIFELINE: undefined });
    plugin.child.stdin?.end();
    await new Promise((r) => setTimeout(r, 1500));
    expect(plugin.child.exitCode).toBeNull();
    await expect(provider(plugin).unary("describe", {})).resolves.toMatchObject({ name: "fixture" });
  });

  it("parent killed with SIGKILL: the plugin notices it was re-parented and exits", async () => {
    // An intermediate "host" process spawns the plugin (stdin not a lifeline), prints its pid, then is SIGKILLed.
    const hostScript = `
      const { spawn } = require("node:child_process");
      const child = spawn(process.execPath, [${JSON.stringify(fixture)}], { env: ${JSON.stringify(
        hostEnvironment({ FLOTILLA_PLUGIN_STDIN_LIFELINE: undefined }),
      )}, stdio: ["ignore", "pipe", "ignore"] });
      child.stdout.once("data", () => console.log(child.pid));
      setInterval(() => {}, 1000);
    `;
    const host = spawn(process.execPath, ["-e", hostScript], { stdio: ["ignore", "pipe", "inherit"] });
    const pluginPid = await new Promise<number>((resolve) =>
      host.stdout.once("data", (d) => resolve(Number(String(d).trim()))),
    );
    try {
      expect(isProcessAlive(pluginPid)).toBe(true);
      host.kill("SIGKILL");
      await expect.poll(() => isProcessAlive(pluginPid), { timeout: 10_000, interval: 100 }).toBe(false);
    } finally {
      if (isProcessAlive(pluginPid)) process.kill(pluginPid, "SIGKILL");
      host.kill("SIGKILL");
    }
  });
});

/** A stand-in for the process watchLifecycle watches: signals are emitted by the test, ppid is settable. */
function fakeProcess(ppid: number) {
  const signals = new EventEmitter();
  const stdin = Object.assign(new EventEmitter(), { resumed: 0, paused: 0 }) as EventEmitter & {
    resumed: number;
    paused: number;
    resume(): void;
    pause(): void;
  };
  stdin.resume = () => void stdin.resumed++;
  stdin.pause = () => void stdin.paused++;
  const proc = {
    ppid,
    stdin,
    on: (event: string, listener: () => void) => signals.on(event, listener),
    off: (event: string, listener: () => void) => signals.off(event, listener),
    emit: (event: string) => signals.emit(event),
    listeners: (event: string) => signals.listenerCount(event),
  };
  return proc;
}

/** A timer the test fires by hand, recording the interval asked for and whether it was unref'd/cleared. */
function manualTimers() {
  const state = { ms: -1, unrefed: false, cleared: false, tick: () => {} };
  const handle = {
    unref: () => {
      state.unrefed = true;
    },
  };
  const timers: LifecycleTimers = {
    setInterval: (callback, ms) => {
      state.ms = ms;
      state.tick = callback;
      return handle;
    },
    clearInterval: (h) => {
      state.cleared = h === handle;
    },
  };
  return { timers, state };
}

describe("watchLifecycle in this process", () => {
  const watch = (
    proc: ReturnType<typeof fakeProcess>,
    extra: Partial<LifecycleOptions> = {},
  ): { stops: [string, string][]; unwatch: () => void } => {
    const stops: [string, string][] = [];
    const unwatch = watchLifecycle({
      env: {},
      process: proc,
      parentPid: 100,
      timers: manualTimers().timers,
      onStop: (cause, detail) => stops.push([cause, detail]),
      ...extra,
    });
    return { stops, unwatch };
  };

  it("stops once on SIGTERM, however many arrive, and only SIGTERM stops", () => {
    const proc = fakeProcess(100);
    const interrupts: number[] = [];
    const { stops } = watch(proc, { onIgnoredInterrupt: () => interrupts.push(1) });
    proc.emit("SIGINT");
    proc.emit("SIGINT");
    expect(stops).toEqual([]);
    expect(interrupts).toEqual([1, 1]);
    proc.emit("SIGTERM");
    proc.emit("SIGTERM");
    expect(stops).toEqual([["signal", "SIGTERM"]]);
  });

  it("notices a changed parent at once and on each poll, naming the parent it lost", () => {
    const already = fakeProcess(1);
    expect(watch(already).stops).toEqual([["host-gone", "parent process 100 exited"]]);

    const proc = fakeProcess(100);
    const { timers, state } = manualTimers();
    const { stops } = watch(proc, { timers, parentPollMs: 25 });
    expect(state).toMatchObject({ ms: 25, unrefed: true });
    state.tick();
    expect(stops).toEqual([]);
    proc.ppid = 1;
    state.tick();
    state.tick();
    expect(stops).toEqual([["host-gone", "parent process 100 exited"]]);
  });

  it("polls the parent every 500 ms unless told otherwise", () => {
    const { timers, state } = manualTimers();
    watch(fakeProcess(100), { timers });
    expect(state.ms).toBe(500);
  });

  it("with the stdin lifeline, reads stdin and stops when it ends, closes or fails", () => {
    for (const event of ["end", "close", "error"]) {
      const proc = fakeProcess(100);
      const { stops } = watch(proc, { env: { [STDIN_LIFELINE_ENV]: "1" } });
      expect(proc.stdin.resumed).toBe(1);
      expect(proc.stdin.listenerCount("data")).toBe(1);
      proc.stdin.emit("data", Buffer.from("ignored"));
      expect(stops).toEqual([]);
      proc.stdin.emit(event);
      expect(stops, event).toEqual([["host-gone", "stdin closed"]]);
    }
  });

  it("without the lifeline (or with another value), leaves stdin alone", () => {
    for (const env of [{}, { [STDIN_LIFELINE_ENV]: "0" }, { [STDIN_LIFELINE_ENV]: "true" }]) {
      const proc = fakeProcess(100);
      const { stops, unwatch } = watch(proc, { env });
      proc.stdin.emit("end");
      proc.stdin.emit("close");
      expect(stops).toEqual([]);
      expect(proc.stdin.resumed).toBe(0);
      expect(proc.stdin.listenerCount("end") + proc.stdin.listenerCount("data")).toBe(0);
      unwatch();
      expect(proc.stdin.paused).toBe(0);
    }
  });

  it("the returned function removes every watcher and stops the poll", () => {
    const proc = fakeProcess(100);
    const { timers, state } = manualTimers();
    const interrupts: number[] = [];
    const { stops, unwatch } = watch(proc, {
      timers,
      env: { [STDIN_LIFELINE_ENV]: "1" },
      onIgnoredInterrupt: () => interrupts.push(1),
    });
    unwatch();
    expect(state.cleared).toBe(true);
    expect(proc.listeners("SIGTERM") + proc.listeners("SIGINT")).toBe(0);
    expect(proc.stdin.listenerCount("end") + proc.stdin.listenerCount("close")).toBe(0);
    expect(proc.stdin.paused).toBe(1);
    proc.emit("SIGTERM");
    proc.emit("SIGINT");
    proc.stdin.emit("end");
    proc.stdin.emit("close");
    expect(stops).toEqual([]);
    expect(interrupts).toEqual([]);
  });

  it("watches the real process and timers by default", () => {
    const before = process.listenerCount("SIGTERM");
    const stops: string[] = [];
    const unwatch = watchLifecycle({ env: {}, onStop: (cause) => stops.push(cause) });
    expect(process.listenerCount("SIGTERM")).toBe(before + 1);
    unwatch();
    expect(process.listenerCount("SIGTERM")).toBe(before);
    // The parent this module recorded is this process's parent, which is still alive.
    expect(stops).toEqual([]);
  });
});
