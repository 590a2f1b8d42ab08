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

/**
 * A group other than the process's own, so the test sees the chown happen (a socket is created with the
 * process's gid anyway): root may give a file to any gid; another user to a supplementary group of its own.
 */
function otherGroupId(): number | undefined {
  const own = process.getgid?.();
  if (process.getuid?.() === 0) return own === 4242 ? 4243 : 4242;
  return process.getgroups?.().find((g) => g !== own);
}
const otherGid = otherGroupId();

describe("PLUGIN_UNIX_SOCKET_GROUP", () => {
  it.skipIf(otherGid === undefined)(
    "gives the socket and its directory to the group, socket 0660 and directory 0750 (skipped: this user has no second group to give them to)",
    async () => {
      const gid = otherGid as number;
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
      expect(socket.gid).not.toBe(process.getgid?.());
      expect(socket.gid).toBe(gid);
      expect(socket.mode & 0o777).toBe(0o660);
      const directory = statSync(join(bound.address, ".."));
      expect(directory.gid).toBe(gid);
      expect(directory.mode & 0o777).toBe(0o750);
    },
  );
});
