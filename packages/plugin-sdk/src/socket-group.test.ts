import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { bindListener } from "./listener.js";
import { applySocketGroup, resolveGroupId } from "./socket-group.js";
import { PluginStartupError } from "./startup-error.js";

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
      // Only the group changes: both stay owned by this process's user.
      expect([socket.uid, directory.uid]).toEqual([process.getuid?.(), process.getuid?.()]);
    },
  );
});

describe("resolveGroupId and applySocketGroup, the details", () => {
  const groupFile = (content: string) => {
    const dir = mkdtempSync("/tmp/grp-");
    cleanups.push(() => rmSync(dir, { recursive: true }));
    const file = join(dir, "group");
    writeFileSync(file, content);
    return file;
  };

  it("reads /etc/group by default", () => {
    expect(resolveGroupId("root")).toBe(0);
  });

  it("takes only whole numbers as ids; anything else is a name to look up", () => {
    const file = groupFile("12a:x:77:\na12:x:78:\n");
    expect(resolveGroupId("12a", file)).toBe(77);
    expect(resolveGroupId("a12", file)).toBe(78);
  });

  it("ignores a group file line whose gid is not a whole number", () => {
    const file = groupFile("odd:x:12abc:\neven:x:abc12:\n");
    expect(() => resolveGroupId("odd", file)).toThrow(/PLUGIN_UNIX_SOCKET_GROUP is "odd", which is not a known group/);
    expect(() => resolveGroupId("even", file)).toThrow(
      /PLUGIN_UNIX_SOCKET_GROUP is "even", which is not a known group/,
    );
  });

  it("without a group file, only numeric ids work", () => {
    expect(resolveGroupId("5", "/nonexistent/group")).toBe(5);
    expect(() => resolveGroupId("root", "/nonexistent/group")).toThrow(
      'PLUGIN_UNIX_SOCKET_GROUP is "root", which is not a known group; set it to a group name or numeric id',
    );
  });

  it("names the group, the variable and the fix when the socket cannot be given to it", () => {
    let failure: unknown;
    try {
      applySocketGroup("/nonexistent/flp-x/plugin.sock", "0");
    } catch (err) {
      failure = err;
    }
    expect(failure).toBeInstanceOf(PluginStartupError);
    expect((failure as Error).message).toMatch(
      /^cannot give the plugin socket to group "0" \(PLUGIN_UNIX_SOCKET_GROUP\): ENOENT.*; the plugin's user must be a member of that group$/,
    );
    expect((failure as Error).cause).toMatchObject({ code: "ENOENT" });
  });
});
