import { existsSync, mkdirSync, rmSync } from "node:fs";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { bindListener } from "./listener.js";

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
