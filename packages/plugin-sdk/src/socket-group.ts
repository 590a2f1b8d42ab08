/**
 * PLUGIN_UNIX_SOCKET_GROUP, as go-plugin honours it: give the socket to a
 * group and make it group read/writable, so a host running under another
 * user of that group can connect.
 */
import { chmodSync, chownSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { HandshakeEnv } from "@flotilla/protocol/wire";
import { PluginStartupError } from "./startup-error.js";

/** Resolves a group name or numeric id to a gid, reading /etc/group for names. */
export function resolveGroupId(group: string, groupFile = "/etc/group"): number {
  if (/^\d+$/.test(group)) return Number(group);
  let lines: string[] = [];
  try {
    lines = readFileSync(groupFile, "utf8").split("\n");
  } catch {
    // No group database: only numeric ids can work; fall through to the error.
  }
  for (const line of lines) {
    const [name, , gid] = line.split(":");
    if (name === group && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  throw new PluginStartupError(
    `${HandshakeEnv.unixSocketGroup} is ${JSON.stringify(group)}, which is not a known group; set it to a group name or numeric id`,
  );
}

/** Gives the socket (and its private directory) to `group`: socket 0660, directory 0750. */
export function applySocketGroup(socketPath: string, group: string): void {
  const gid = resolveGroupId(group);
  try {
    chownSync(dirname(socketPath), -1, gid);
    chmodSync(dirname(socketPath), 0o750);
    chownSync(socketPath, -1, gid);
    chmodSync(socketPath, 0o660);
  } catch (err) {
    throw new PluginStartupError(
      `cannot give the plugin socket to group ${JSON.stringify(group)} (${HandshakeEnv.unixSocketGroup}): ${(err as Error).message}; ` +
        "the plugin's user must be a member of that group",
      { cause: err },
    );
  }
}
