import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { isProcessAlive, processGroupMembers } from "./process-table.js";

describe("isProcessAlive", () => {
  it("is true for a running process and false once it has exited", async () => {
    const child = spawn("sleep", ["30"]);
    const pid = child.pid as number;
    expect(isProcessAlive(pid)).toBe(true);
    child.kill("SIGKILL");
    await once(child, "exit");
    expect(isProcessAlive(pid)).toBe(false);
    expect(isProcessAlive(process.pid)).toBe(true);
  });
});

describe("processGroupMembers", () => {
  it("lists the live processes of a group, the leader's children included, and none once they are killed", async () => {
    const leader = spawn("sh", ["-c", "sleep 30 & echo started; wait"], {
      detached: true,
      stdio: ["ignore", "pipe", "ignore"],
    });
    const group = leader.pid as number;
    await once(leader.stdout, "data");
    const members = processGroupMembers(group);
    expect(members).toContain(group);
    expect(members).toHaveLength(2);
    expect(members).not.toContain(process.pid);
    process.kill(-group, "SIGKILL");
    await expect.poll(() => processGroupMembers(group), { timeout: 10_000 }).toEqual([]);
  });
});
