import { readFileSync } from "node:fs";
import { FailedPreconditionError, ResourceExhaustedError, UnavailableError } from "@flotilla/protocol";
import { eventually, processesMatching, zombieChildren } from "@flotilla/test-support";
import { afterEach, describe, expect, it } from "vitest";
import { fakePluginConfig, newMarker } from "./fixtures/fake-plugin.js";
import type { PluginLogRecord } from "./log-record.js";
import { PluginError } from "./plugin-error.js";
import { PluginHost } from "./plugin-manager.js";

let marker = newMarker();
let records: PluginLogRecord[] = [];
let host = new PluginHost();

/** A process's environment as the kernel holds it. */
function environOf(pid: number): Record<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").filter(Boolean);
  return Object.fromEntries(entries.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
}

function newHost(): PluginHost {
  host = new PluginHost({ logSink: (r) => records.push(r), stopTimeouts: { gracefulMs: 1000, terminateMs: 1000 } });
  return host;
}

afterEach(async () => {
  await host.stop();
  expect(await eventually(() => processesMatching(marker).length === 0)).toBe(true);
  expect(zombieChildren()).toEqual([]);
  marker = newMarker();
  records = [];
});

describe("PluginHost", () => {
  it("starts several plugins in parallel, finds them by name and stops them all", async () => {
    const h = newHost();
    await h.start([
      fakePluginConfig("ok", marker, { name: "one" }),
      fakePluginConfig("ok", marker, { name: "two" }),
      fakePluginConfig("ok", marker, { name: "three" }),
    ]);
    expect(h.list().map((p) => [p.name, p.state])).toEqual([
      ["one", "ready"],
      ["two", "ready"],
      ["three", "ready"],
    ]);
    expect(processesMatching(marker)).toHaveLength(3);
    // One AutoMTLS client certificate per host, not one per plugin.
    const certs = h.list().map((p) => environOf(p.current?.pid as number).PLUGIN_CLIENT_CERT);
    expect(certs[0]).toContain("BEGIN CERTIFICATE");
    expect(new Set(certs).size).toBe(1);
    const regions = await h.provider("two").regionLister()?.listRegions();
    expect(regions?.regions[0]?.id).toBe("local");
    expect(() => h.provider("four")).toThrow(/no plugin named "four" was started; started: one, two, three/);
    await expect(h.restart("four")).rejects.toThrow(/^no plugin named "four" was started$/);
    await h.stop();
    expect(await eventually(() => processesMatching(marker).length === 0)).toBe(true);
  });

  it("names the absence of any plugin when none was started", () => {
    expect(() => newHost().provider("aws")).toThrow('no plugin named "aws" was started; no plugins were started');
  });

  it("stops the plugins that started when another one fails, and throws that one's PluginError", async () => {
    const h = newHost();
    const err = await h
      .start([
        fakePluginConfig("ok", marker, { name: "good" }),
        fakePluginConfig("crash-at-start", marker, { name: "bad" }),
      ])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PluginError);
    expect((err as PluginError).plugin).toBe("bad");
    expect(h.get("good")).toBeUndefined();
    expect(await eventually(() => processesMatching(marker).length === 0)).toBe(true);
  });

  it("rejects a bad config before starting anything, naming the key", async () => {
    const h = newHost();
    await expect(h.start([{ name: "Bad Name", command: "x" }])).rejects.toThrow(/"name" must be/);
    await expect(h.start([fakePluginConfig("ok", marker, { sha256: "abc" })])).rejects.toThrow(
      /"sha256" must be 64 hex digits/,
    );
    const dup = fakePluginConfig("ok", marker);
    await expect(h.start([dup, dup])).rejects.toThrow(/the name is used twice/);
  });

  it("fails a call in flight at once with a retriable UnavailableError naming the plugin when the plugin dies, then restarts it", async () => {
    const h = newHost();
    await h.start([
      fakePluginConfig("ok", marker, {
        name: "flaky",
        env: { FAKE_LIST_REGIONS: "hang" },
        restart: { initialDelayMs: 100, jitter: 0 },
      }),
    ]);
    const plugin = h.get("flaky");
    const firstPid = plugin?.current?.pid as number;
    const call = h.provider("flaky").regionLister()?.listRegions();
    expect(await eventually(() => records.some((r) => r.message === "ListRegions hanging"))).toBe(true);
    const crashed = new Promise((resolve) => h.once("crash", resolve));
    const restarted = new Promise((resolve) => h.once("restarted", resolve));
    process.kill(firstPid, "SIGKILL");
    const err = await call?.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as UnavailableError).retriable).toBe(true);
    expect((err as UnavailableError).message).toContain(
      'plugin "flaky" was killed by SIGKILL while the call was in flight',
    );
    expect((err as UnavailableError).cause).toBeInstanceOf(PluginError);
    expect(await crashed).toMatchObject({ plugin: "flaky", exit: { signal: "SIGKILL" } });
    expect(await eventually(() => plugin?.state === "ready", 10_000)).toBe(true);
    expect(plugin?.current?.pid).not.toBe(firstPid);
    expect(await restarted).toBe("flaky");
    expect(records.some((r) => r.level === "error" && r.message.includes("unexpectedly"))).toBe(true);
  });

  it("refuses calls while the plugin restarts instead of queueing them", async () => {
    const h = newHost();
    // A backoff far longer than the test, so the plugin is still restarting whenever the call comes.
    await h.start([
      fakePluginConfig("ok", marker, {
        name: "slow",
        restart: { initialDelayMs: 600_000, maxDelayMs: 600_000, jitter: 0 },
      }),
    ]);
    const plugin = h.get("slow");
    process.kill(plugin?.current?.pid as number, "SIGKILL");
    expect(await eventually(() => plugin?.state === "restarting")).toBe(true);
    await expect(h.provider("slow").regionLister()?.listRegions()).rejects.toThrow(
      /plugin "slow" is restarting; ListRegions was not sent/,
    );
  });

  it("reports a crash loop instead of restarting forever", async () => {
    const h = newHost();
    const loops: PluginError[] = [];
    h.on("crash-loop", (_name, error) => loops.push(error));
    await h.start([
      fakePluginConfig("ok", marker, {
        name: "looping",
        env: { FAKE_CRASH_AFTER_MS: "300" },
        restart: { initialDelayMs: 50, maxCrashes: 3, windowMs: 60_000, jitter: 0.5 },
      }),
    ]);
    expect(await eventually(() => loops.length === 1, 20_000)).toBe(true);
    const plugin = h.get("looping");
    expect(plugin?.state).toBe("crash-loop");
    expect(loops[0]?.message).toContain("crash loop: it exited with code 7 3 times within 60000 ms");
    expect(loops[0]?.stderrTail).toContain("panic: simulated crash");
    const call = h.provider("looping").regionLister()?.listRegions();
    // Not retriable: a crash loop does not heal by itself, so pollers must not spin on it.
    await expect(call).rejects.toBeInstanceOf(FailedPreconditionError);
    await expect(call).rejects.toThrow(/is in a crash loop/);
    // No restart timer is set after giving up (managed-plugin.test.ts proves it with an injected timer).
    expect(await eventually(() => processesMatching(marker).length === 0)).toBe(true);
  });
});

describe("PluginHost.stop during start", () => {
  it("waits for starts in progress so that no plugin outlives stop()", async () => {
    const h = newHost();
    const starting = h.start([
      fakePluginConfig("ok", marker, { name: "a" }),
      fakePluginConfig("ok", marker, { name: "b" }),
    ]);
    // Settle the start's outcome now: stop() rejects it before the assertion
    // below runs, and an unobserved rejection would be reported as unhandled.
    const startOutcome = starting.then(
      () => new Error("start() resolved although stop() interrupted it"),
      (err: unknown) => err,
    );
    await new Promise((r) => setTimeout(r, 50));
    await h.stop();
    expect(processesMatching(marker)).toEqual([]);
    expect(String(((await startOutcome) as Error).message)).toMatch(/stopped it while it was starting/);
  });
});

describe("provider clients", () => {
  it("hands out one client per plugin, so service clients are not rebuilt on every call", async () => {
    const h = newHost();
    await h.start([fakePluginConfig("ok", marker, { name: "same" })]);
    expect(h.provider("same")).toBe(h.provider("same"));
    expect(h.provider("same").provider()).toBe(h.provider("same").provider());
  });
});

describe("oversized messages", () => {
  it("a response over the host's 16 MiB limit fails that call with ResourceExhausted and leaves the plugin usable", async () => {
    const h = newHost();
    await h.start([fakePluginConfig("ok", marker, { name: "big", env: { FAKE_LIST_REGIONS: "huge" } })]);
    const err = await h
      .provider("big")
      .regionLister()
      ?.listRegions()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResourceExhaustedError);
    expect((err as Error).message).toMatch(/larger than max/i);
    expect(h.get("big")?.state).toBe("ready");
    const described = await h.provider("big").provider().describe();
    expect(described.name).toBe("fake");
  });
});
