import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { bindListener } from "./listener.js";
import { resolveGroupId } from "./socket-group.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe("resolveGroupId", () => {
  it("accepts numeric ids and looks names up in the group file", () => {
    const dir = mkdtempSync("/tmp/grp-");
    cleanups.push(() => rmSync(dir, { recursive: true }));
    const file = join(dir, "group");
    writeFileSync(file, "root:x:0:\nplugins:x:4242:alice,bob\n");
    expect(resolveGroupId("17", file)).toBe(17);
    expect(resolveGroupId("plugins", file)).toBe(4242);
    expect(() => resolveGroupId("nobody-here", file)).toThrow(
      /PLUGIN_UNIX_SOCKET_GROUP is "nobody-here", which is not a known group/,
    );
  });
});

describe("PLUGIN_UNIX_SOCKET_GROUP", () => {
  it("gives the socket to the group with mode 0660 and its directory 0750", async () => {
    const gid = process.getgid?.() ?? 0;
    const server = new Server();
    cleanups.push(() => server.forceShutdown());
    const bound = await bindListener(
      server,
      ServerCredentials.createInsecure(),
      { PLUGIN_UNIX_SOCKET_GROUP: String(gid) },
      "unix",
    );
    cleanups.push(bound.cleanup);
    const socket = statSync(bound.address);
    expect(socket.gid).toBe(gid);
    expect(socket.mode & 0o777).toBe(0o660);
    expect(statSync(join(bound.address, "..")).mode & 0o777).toBe(0o750);
  });
});
