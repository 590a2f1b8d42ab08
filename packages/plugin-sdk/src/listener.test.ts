import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { afterEach, describe, expect, it, onTestFinished, vi } from "vitest";
import { bindListener, NETWORK_ENV } from "./listener.js";
import { PluginStartupError } from "./startup-error.js";

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.forceShutdown();
});

function server(): Server {
  const s = new Server();
  servers.push(s);
  return s;
}

describe("bindListener", () => {
  it("binds a Unix socket in a fresh directory under PLUGIN_UNIX_SOCKET_DIR and cleans it up", async () => {
    const bound = await bindListener(
      server(),
      ServerCredentials.createInsecure(),
      { PLUGIN_UNIX_SOCKET_DIR: "/tmp" },
      undefined,
    );
    expect(bound.network).toBe("unix");
    expect(bound.address).toMatch(/^\/tmp\/flp-[^/]+\/plugin\.sock$/);
    expect(existsSync(bound.address)).toBe(true);
    bound.cleanup();
    expect(existsSync(bound.address)).toBe(false);
  });

  it("refuses a socket directory whose path would exceed the sun_path limit, naming the variable", async () => {
    const long = `/tmp/${"d".repeat(100)}`;
    mkdirSync(long, { recursive: true });
    try {
      await expect(
        bindListener(server(), ServerCredentials.createInsecure(), { PLUGIN_UNIX_SOCKET_DIR: long }, undefined),
      ).rejects.toThrow(/over the 103-byte limit; set PLUGIN_UNIX_SOCKET_DIR to a shorter directory/);
    } finally {
      rmSync(long, { recursive: true, force: true });
    }
  });

  it("names PLUGIN_UNIX_SOCKET_DIR when the directory cannot be used", async () => {
    await expect(
      bindListener(
        server(),
        ServerCredentials.createInsecure(),
        { PLUGIN_UNIX_SOCKET_DIR: "/nonexistent/x" },
        undefined,
      ),
    ).rejects.toThrow(/set PLUGIN_UNIX_SOCKET_DIR to a writable directory/);
  });

  it("skips busy TCP ports within the range", async () => {
    const first = await bindListener(
      server(),
      ServerCredentials.createInsecure(),
      { PLUGIN_MIN_PORT: "23300", PLUGIN_MAX_PORT: "23310" },
      "tcp",
    );
    const second = await bindListener(
      server(),
      ServerCredentials.createInsecure(),
      { PLUGIN_MIN_PORT: "23300", PLUGIN_MAX_PORT: "23310" },
      "tcp",
    );
    expect(first.address).not.toBe(second.address);
    for (const b of [first, second]) {
      const port = Number(b.address.split(":")[1]);
      expect(port).toBeGreaterThanOrEqual(23300);
      expect(port).toBeLessThanOrEqual(23310);
    }
  });

  it("rejects an inverted or invalid port range with the fix", async () => {
    await expect(
      bindListener(
        server(),
        ServerCredentials.createInsecure(),
        { PLUGIN_MIN_PORT: "30000", PLUGIN_MAX_PORT: "20000" },
        "tcp",
      ),
    ).rejects.toThrow(/greater than PLUGIN_MAX_PORT .* swap them/);
    await expect(
      bindListener(server(), ServerCredentials.createInsecure(), { PLUGIN_MIN_PORT: "abc" }, "tcp"),
    ).rejects.toThrow(/PLUGIN_MIN_PORT is "abc"/);
  });
});

describe("bindListener, its edges", () => {
  const insecure = () => ServerCredentials.createInsecure();
  const scratch = (name: string) => {
    const dir = mkdtempSync(`/tmp/${name}-`);
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  };
  /** A TCP port nobody listens on right now, held by `hold` when asked. */
  const freePort = async (hold = false): Promise<number> => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as AddressInfo).port;
    if (hold) onTestFinished(() => void probe.close());
    else await new Promise((resolve) => probe.close(resolve));
    return port;
  };
  const tcp = (env: NodeJS.ProcessEnv) => bindListener(server(), insecure(), env, "tcp");

  it("takes PLUGIN_NETWORK=tcp from the environment, and a Unix socket without it", async () => {
    const port = await freePort();
    const env = { PLUGIN_MIN_PORT: String(port), PLUGIN_MAX_PORT: String(port) };
    expect(await bindListener(server(), insecure(), { ...env, [NETWORK_ENV]: "tcp" }, undefined)).toMatchObject({
      network: "tcp",
      address: `127.0.0.1:${port}`,
    });
    const dir = scratch("sdk-net");
    const unix = await bindListener(server(), insecure(), { ...env, PLUGIN_UNIX_SOCKET_DIR: dir }, undefined);
    expect(unix.network).toBe("unix");
    expect(unix.address.startsWith(`${dir}/flp-`)).toBe(true);
  });

  it("binds the single port of a range whose ends are equal", async () => {
    const port = await freePort();
    const bound = await tcp({ PLUGIN_MIN_PORT: String(port), PLUGIN_MAX_PORT: String(port) });
    expect(bound).toMatchObject({ network: "tcp", address: `127.0.0.1:${port}` });
    bound.cleanup();
  });

  it("names the range and the last bind error when every port is busy", async () => {
    const port = await freePort(true);
    const failure = await tcp({ PLUGIN_MIN_PORT: String(port), PLUGIN_MAX_PORT: String(port) }).catch((e) => e);
    expect(failure).toBeInstanceOf(PluginStartupError);
    expect(failure.message).toMatch(
      new RegExp(
        `^no free TCP port on 127\\.0\\.0\\.1 between PLUGIN_MIN_PORT=${port} and PLUGIN_MAX_PORT=${port} \\(last error: .*EADDRINUSE.*\\); widen the range$`,
      ),
    );
    expect(failure.cause).toBeInstanceOf(Error);
  });

  it("uses go-plugin's default range (10000..25000) for an unset or empty bound", async () => {
    for (const min of [undefined, ""]) {
      await expect(tcp({ PLUGIN_MIN_PORT: min, PLUGIN_MAX_PORT: "9999" })).rejects.toThrow(
        "PLUGIN_MIN_PORT (10000) is greater than PLUGIN_MAX_PORT (9999); swap them",
      );
      await expect(tcp({ PLUGIN_MIN_PORT: "25001", PLUGIN_MAX_PORT: min })).rejects.toThrow(
        "PLUGIN_MIN_PORT (25001) is greater than PLUGIN_MAX_PORT (25000); swap them",
      );
    }
  });

  it("accepts ports 1 and 65535 and refuses anything that is not a whole number in between", async () => {
    // The lowest and highest port parse; the range is then refused for being inverted, not for the port.
    await expect(tcp({ PLUGIN_MIN_PORT: "65535", PLUGIN_MAX_PORT: "1" })).rejects.toThrow(
      "PLUGIN_MIN_PORT (65535) is greater than PLUGIN_MAX_PORT (1); swap them",
    );
    for (const raw of ["0", "65536", "12x", "x12", "-5", "1.5"]) {
      await expect(tcp({ PLUGIN_MIN_PORT: raw }), raw).rejects.toThrow(
        `PLUGIN_MIN_PORT is ${JSON.stringify(raw)}; set it to a port number between 1 and 65535`,
      );
    }
  });

  it("accepts a socket path of exactly 103 bytes and refuses 104, leaving nothing behind", async () => {
    // <dir>/flp-XXXXXX/plugin.sock is the directory plus 23 bytes.
    const base = scratch("sdk-len");
    const exact = `${base}/${"e".repeat(80 - base.length - 1)}`;
    mkdirSync(exact);
    const bound = await bindListener(server(), insecure(), { PLUGIN_UNIX_SOCKET_DIR: exact }, undefined);
    expect(Buffer.byteLength(bound.address)).toBe(103);
    bound.cleanup();
    bound.cleanup();
    expect(readdirSync(exact)).toEqual([]);

    const over = `${base}/${"o".repeat(81 - base.length - 1)}`;
    mkdirSync(over);
    await expect(bindListener(server(), insecure(), { PLUGIN_UNIX_SOCKET_DIR: over }, undefined)).rejects.toThrow(
      /plugin\.sock is 104 bytes, over the 103-byte limit/,
    );
    expect(readdirSync(over)).toEqual([]);
  });

  it("without PLUGIN_UNIX_SOCKET_DIR uses TMPDIR up to 60 characters, else /tmp", async () => {
    const base = scratch("sdk-tmp");
    const at60 = `${base}/${"s".repeat(60 - base.length - 1)}`;
    const at61 = `${base}/${"l".repeat(61 - base.length - 1)}`;
    mkdirSync(at60);
    mkdirSync(at61);
    vi.stubEnv("TMPDIR", at60);
    onTestFinished(() => {
      vi.unstubAllEnvs();
    });
    const short = await bindListener(server(), insecure(), {}, undefined);
    expect(short.address.startsWith(`${at60}/flp-`)).toBe(true);
    short.cleanup();
    vi.stubEnv("TMPDIR", at61);
    const long = await bindListener(server(), insecure(), {}, undefined);
    expect(long.address).toMatch(/^\/tmp\/flp-[^/]+\/plugin\.sock$/);
    long.cleanup();
  });

  it("says which directory it could not create, and keeps the cause", async () => {
    const failure = await bindListener(server(), insecure(), { PLUGIN_UNIX_SOCKET_DIR: "/nonexistent/x" }, undefined)
      .then(() => undefined)
      .catch((e) => e);
    expect(failure.message).toMatch(
      /^cannot create the plugin's socket directory in \/nonexistent\/x: ENOENT.*; set PLUGIN_UNIX_SOCKET_DIR to a writable directory$/,
    );
    expect(failure.cause).toMatchObject({ code: "ENOENT" });
  });

  it("reports a socket it cannot listen on, removing its directory", async () => {
    const dir = scratch("sdk-bind");
    const stopped = server();
    stopped.forceShutdown();
    const failure = await bindListener(stopped, insecure(), { PLUGIN_UNIX_SOCKET_DIR: dir }, undefined)
      .then(() => undefined)
      .catch((e) => e);
    expect(failure).toBeInstanceOf(PluginStartupError);
    expect(failure.message).toMatch(
      new RegExp(`^cannot listen on Unix socket ${dir}/flp-[^/]+/plugin\\.sock: bindAsync called after shutdown$`),
    );
    expect(failure.cause).toBeInstanceOf(Error);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("an unknown PLUGIN_UNIX_SOCKET_GROUP stops the server, removes the socket and names the group", async () => {
    const dir = scratch("sdk-group");
    const s = server();
    await expect(
      bindListener(
        s,
        insecure(),
        { PLUGIN_UNIX_SOCKET_DIR: dir, PLUGIN_UNIX_SOCKET_GROUP: "no-such-group-here" },
        undefined,
      ),
    ).rejects.toThrow('PLUGIN_UNIX_SOCKET_GROUP is "no-such-group-here", which is not a known group');
    expect(readdirSync(dir)).toEqual([]);
    await expect(
      new Promise((resolve, reject) =>
        s.bindAsync("127.0.0.1:0", insecure(), (err, port) => (err ? reject(err) : resolve(port))),
      ),
    ).rejects.toThrow("bindAsync called after shutdown");
  });
});
