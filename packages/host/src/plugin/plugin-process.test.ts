import { readFileSync } from "node:fs";
import { HandshakeFormatError, MAGIC_COOKIE } from "@flotilla/protocol/wire";
import { eventually, processesMatching, zombieChildren } from "@flotilla/test-support";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { fakePluginConfig, newMarker } from "./fixtures/fake-plugin.js";
import { sdkPluginConfig, sdkPluginPath } from "./fixtures/sdk-plugin.js";
import type { PluginLogRecord } from "./log-record.js";
import type { PluginConfig } from "./plugin-config.js";
import { PluginError } from "./plugin-error.js";
import { PluginProcess } from "./plugin-process.js";
import { createSocketDir, removeSocketDir } from "./socket-dir.js";

const socketDir = createSocketDir();
let marker = newMarker();
const started: PluginProcess[] = [];
let records: PluginLogRecord[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop({ gracefulMs: 500, terminateMs: 500 })));
  expect(await eventually(() => processesMatching(marker).length === 0)).toBe(true);
  expect(zombieChildren()).toEqual([]);
  marker = newMarker();
  records = [];
});

afterAll(() => removeSocketDir(socketDir));

async function start(config: PluginConfig, hostEnv?: Record<string, string>): Promise<PluginProcess> {
  const p = await PluginProcess.start({
    config,
    sink: (r) => records.push(r),
    socketDir,
    ...(hostEnv ? { hostEnv } : {}),
  });
  started.push(p);
  return p;
}

async function startFailure(config: PluginConfig): Promise<PluginError> {
  const err = await start(config).then(
    () => new Error("the plugin started although it should not have"),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PluginError);
  return err as PluginError;
}

describe("PluginProcess.start with a well-behaved plugin", () => {
  it("handshakes over a Unix socket with pinned AutoMTLS, checks health, reads the registry and configures", async () => {
    const p = await start(fakePluginConfig("ok", marker, { config: { region: "x" } }));
    expect(p.handshake).toMatchObject({ network: "unix", protocol: "grpc", appProtocolVersion: 1 });
    expect(p.handshake.address.startsWith(socketDir)).toBe(true);
    expect(p.handshake.serverCertDer?.length).toBeGreaterThan(100);
    expect(p.registry.services).toEqual(["flotilla.plugin.v1.RegionListerService"]);
    expect(p.timings.readyMs).toBeGreaterThanOrEqual(p.timings.handshakeMs);
    await eventually(() => records.some((r) => r.message === "configured"));
    expect(records.find((r) => r.message === "configured")).toMatchObject({
      plugin: "fake-ok",
      level: "info",
      fields: { keys: ["region"] },
    });
  });

  it("connects without TLS when AutoMTLS is off", async () => {
    const p = await start(fakePluginConfig("ok", marker, { autoMtls: false }));
    expect(p.handshake.serverCertDer).toBeUndefined();
  });

  it("forwards the plugin's GRPCStdio stream as records tagged with its name", async () => {
    await start(fakePluginConfig("ok", marker));
    expect(await eventually(() => records.some((r) => r.source === "stdio" && r.message === "via grpc stdio"))).toBe(
      true,
    );
    expect(records.find((r) => r.source === "stdio")?.plugin).toBe("fake-ok");
  });

  it("gives the plugin a minimal environment plus its grants, never the host's secrets, and masks granted values in logs", async () => {
    const hostEnv = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: "/root",
      AWS_SECRET_ACCESS_KEY: "host-only-secret",
      TOK: "inherited-token-value",
    };
    const p = await start(
      fakePluginConfig("ok", marker, {
        // The variable name is shorter than 8 characters, so the name itself is not masked.
        env: { GRANTED_KEY: "granted-secret-value", FAKE_ECHO_ENV: "TOK" },
        inheritEnv: ["TOK"],
      }),
      hostEnv,
    );
    // What the kernel says the process got, not only what the plugin reports.
    const environ = readFileSync(`/proc/${p.pid}/environ`, "utf8");
    expect(environ).not.toContain("AWS_SECRET_ACCESS_KEY");
    expect(environ).not.toContain("host-only-secret");
    expect(environ).toContain("GRANTED_KEY=granted-secret-value");
    expect(await eventually(() => records.some((r) => r.message === "configured"))).toBe(true);
    const env = records.find((r) => r.message === "configured")?.fields.env as string[];
    expect(env).toContain("GRANTED_KEY");
    expect(env).toContain("TOK");
    expect(env).toContain("FLOTILLA_PLUGIN_MAGIC_COOKIE");
    expect(env).not.toContain("AWS_SECRET_ACCESS_KEY");
    // The plugin logged a granted value; the host masked it in the record, its fields and the stderr tail.
    expect(await eventually(() => records.some((r) => r.message.startsWith("plain careless line")))).toBe(true);
    expect(records.find((r) => r.message.startsWith("careless:"))).toMatchObject({
      message: "careless: TOK=[REDACTED]",
      fields: { value: "[REDACTED]" },
    });
    expect(JSON.stringify(records)).not.toContain("inherited-token-value");
    expect(p.stderrTail().join("\n")).toContain("plain careless line [REDACTED]");
    expect(p.stderrTail().join("\n")).not.toContain("inherited-token-value");
    expect(
      env.filter(
        (k) =>
          !["HOME", "PATH", "GRANTED_KEY", "TOK", "FAKE_ECHO_ENV"].includes(k) &&
          !k.startsWith("PLUGIN_") &&
          !k.startsWith("FLOTILLA_"),
      ),
    ).toEqual([]);
  });

  it("stops gracefully and then kills what is left in its process group, grandchildren included", async () => {
    const grandchildMarker = newMarker();
    const p = await start(fakePluginConfig("ok", marker, { env: { FAKE_GRANDCHILD: grandchildMarker } }));
    expect(await eventually(() => processesMatching(grandchildMarker).length === 1)).toBe(true);
    const exit = await p.stop({ gracefulMs: 2000, terminateMs: 500 });
    expect(exit.exitCode).toBe(0);
    expect(await eventually(() => processesMatching(grandchildMarker).length === 0)).toBe(true);
  });
});

describe("PluginProcess.stop", () => {
  it("escalates to SIGKILL of the group when the plugin ignores Shutdown, stdin EOF and SIGTERM", async () => {
    const p = await start(fakePluginConfig("stubborn", marker));
    const exit = await p.stop({ gracefulMs: 300, terminateMs: 300 });
    expect(exit.signal).toBe("SIGKILL");
    expect(records.some((r) => r.message === "ignoring SIGTERM")).toBe(true);
    expect(processesMatching(marker)).toEqual([]);
  });
});

describe("PluginProcess.start over TCP", () => {
  it("lets an SDK plugin listen on TCP within the configured port range, with AutoMTLS", async () => {
    const p = await start(sdkPluginConfig("sdk-tcp", marker, { tcpPortRange: { min: 41000, max: 41999 } }));
    expect(p.handshake.network).toBe("tcp");
    const port = Number(p.handshake.address.split(":").pop());
    expect(port).toBeGreaterThanOrEqual(41000);
    expect(port).toBeLessThanOrEqual(41999);
    expect(p.handshake.serverCertDer).toBeDefined();
  });
});

describe("PluginProcess.start failures name the plugin, the phase, the timeout and the stderr tail", () => {
  it("crash at start", async () => {
    const err = await startFailure(fakePluginConfig("crash-at-start", marker));
    expect(err).toMatchObject({ plugin: "fake-crash-at-start", phase: "handshake", exitCode: 3 });
    expect(err.stderrTail).toContain("fatal: cannot read provider settings");
    expect(err.message).toContain("exited before printing its handshake line");
    expect(err.message).toContain("fatal: cannot read provider settings");
  });

  it("hang at start (start timeout), even when the plugin ignores SIGTERM", async () => {
    // The fixture logs "starting very slowly" only after Node has loaded gRPC and the protocol
    // package, which can take well over a second on a loaded machine: 5 s leaves room for that.
    const err = await startFailure(fakePluginConfig("hang-ignore-term", marker, { startTimeoutMs: 5000 }));
    expect(err).toMatchObject({ phase: "handshake", timeoutMs: 5000 });
    expect(err.message).toContain("no handshake line within the start timeout");
    expect(err.message).toContain("timeout 5000 ms");
    expect(err.stderrTail.join("\n")).toContain("starting very slowly");
  });

  it("garbage on stdout instead of a handshake", async () => {
    const err = await startFailure(fakePluginConfig("garbage", marker));
    expect(err.phase).toBe("handshake");
    expect(err.message).toContain("Hello! Plugin v2 starting up...");
    expect(err.cause).toBeInstanceOf(HandshakeFormatError);
    expect((err.cause as HandshakeFormatError).field).toBe("field-count");
  });

  it("unsupported protocol version", async () => {
    const err = await startFailure(fakePluginConfig("wrong-version", marker));
    expect(err.phase).toBe("handshake");
    expect(err.message).toContain("speaks app protocol version 99, but this host accepts only 1");
  });

  it("oversized handshake message", async () => {
    const err = await startFailure(fakePluginConfig("huge-line", marker));
    expect(err.phase).toBe("handshake");
    expect(err.message).toContain("65536 bytes");
  });

  it("missing cookie: a plugin that does not get the cookie it expects says so and exits", async () => {
    const err = await startFailure(fakePluginConfig("cookie-mismatch", marker));
    expect(err).toMatchObject({ phase: "handshake", exitCode: 1 });
    expect(err.stderrTail.join("\n")).toContain("This binary is a plugin");
  });

  it("missing cookie: a real SDK plugin started without the cookie explains itself and exits non-zero", async () => {
    // env -u strips the cookie the host sets, as if a host for another application had started it.
    const err = await startFailure(
      sdkPluginConfig("sdk-no-cookie", marker, {
        command: "/usr/bin/env",
        args: ["-u", MAGIC_COOKIE.key, process.execPath, sdkPluginPath, marker],
      }),
    );
    expect(err).toMatchObject({ phase: "handshake", exitCode: 1 });
    expect(err.message).toContain("exited before printing its handshake line");
    expect(err.stderrTail.join("\n")).toMatch(/plugin/i);
    expect(err.stderrTail.join("\n")).toMatch(/host/i);
  });

  it("TLS mismatch: the served certificate is not the one announced in the handshake", async () => {
    // A generous start timeout: if Node is slow to start, the failure must still be the pin
    // mismatch and not a handshake timeout.
    const err = await startFailure(fakePluginConfig("tls-mismatch", marker, { startTimeoutMs: 15_000 }));
    expect(["connect", "health"]).toContain(err.phase);
    expect(err.message).toMatch(/pin mismatch|certificate/i);
  });

  it("a plugin that ignores AutoMTLS is refused rather than spoken to in plaintext", async () => {
    const err = await startFailure(fakePluginConfig("no-tls", marker));
    expect(err.phase).toBe("handshake");
    expect(err.message).toContain("sent no server certificate although AutoMTLS was requested");
  });

  it("unhealthy plugin", async () => {
    const err = await startFailure(fakePluginConfig("unhealthy", marker));
    expect(err.phase).toBe("health");
    expect(err.message).toContain("NOT_SERVING");
  });

  it("configuration rejected by the plugin", async () => {
    const err = await startFailure(fakePluginConfig("ok", marker, { config: { reject: true } }));
    expect(err.phase).toBe("configure");
    expect(err.message).toContain('config key "reject" is not allowed');
  });

  it("config that does not match the schema the plugin publishes, caught before Configure is sent", async () => {
    const err = await startFailure(sdkPluginConfig("sdk-bad-config", marker, { config: { regoin: "eu-west-1" } }));
    expect(err.phase).toBe("configure");
    expect(err.message).toContain("  - regoin: is not a known key; known keys are: ");
    expect(records.some((r) => r.message === "configured")).toBe(false);
  });

  it("executable that does not exist", async () => {
    const err = await startFailure({ name: "missing", command: "/nonexistent/flotilla-plugin" });
    expect(err.phase).toBe("spawn");
    expect(err.message).toContain("/nonexistent/flotilla-plugin");
    expect(err.message).toContain("ENOENT");
  });

  it("checksum mismatch stops before spawning", async () => {
    const err = await startFailure(
      fakePluginConfig("ok", marker, { command: process.execPath, sha256: "0".repeat(64) }),
    );
    expect(err.phase).toBe("spawn");
    expect(err.message).toContain(`checksum mismatch for ${process.execPath}`);
    expect(processesMatching(marker)).toEqual([]);
  });
});
