import { spawn } from "node:child_process";
import { once } from "node:events";
import { processGroupMembers } from "@flotilla/test-support";
import { afterEach, describe, expect, it } from "vitest";
import { killStartedGroups, startGroup } from "./fixtures/process-groups.js";
import { signalProcessGroup, stopGroupLeftovers, terminateProcessGroup } from "./process-group.js";

afterEach(killStartedGroups);

describe("signalProcessGroup", () => {
  it("signals every process of the group, and says false once nothing is left to signal", async () => {
    const { group, exited } = await startGroup({ leaderIgnoresTerm: false, memberIgnoresTerm: false });
    expect(signalProcessGroup(group, "SIGKILL")).toBe(true);
    await exited;
    await expect.poll(() => processGroupMembers(group)).toEqual([]);
    await expect.poll(() => signalProcessGroup(group, "SIGKILL")).toBe(false);
  });
});

describe("terminateProcessGroup", () => {
  it("SIGKILLs a group whose leader ignores SIGTERM once the grace period is over", async () => {
    const { group, exited } = await startGroup({ leaderIgnoresTerm: true, memberIgnoresTerm: true });
    await terminateProcessGroup(group, { leaderExited: exited, graceMs: 200 });
    const [, signal] = await exited;
    expect(signal).toBe("SIGKILL");
    await expect.poll(() => processGroupMembers(group)).toEqual([]);
  });

  it("SIGKILLs what the leader left in its group once the leader has exited on SIGTERM, without waiting for the grace", async () => {
    const { group, exited } = await startGroup({ leaderIgnoresTerm: false, memberIgnoresTerm: true });
    // A grace far longer than the test's timeout: only the kill of the leftovers can end the member in time.
    await terminateProcessGroup(group, { leaderExited: exited, graceMs: 600_000 });
    const [, signal] = await exited;
    expect(signal).toBe("SIGTERM");
    await expect.poll(() => processGroupMembers(group)).toEqual([]);
  });

  it("resolves for a group that is already gone", async () => {
    const { group, exited } = await startGroup({ leaderIgnoresTerm: false, memberIgnoresTerm: false });
    signalProcessGroup(group, "SIGKILL");
    await exited;
    await expect.poll(() => processGroupMembers(group)).toEqual([]);
    await expect(terminateProcessGroup(group, { leaderExited: exited, graceMs: 10 })).resolves.toBeUndefined();
  });
});

describe("stopGroupLeftovers", () => {
  it("SIGKILLs what a leader that exited left in its group once the grace period is over", async () => {
    const { group, exited } = await startGroup({ leaderIgnoresTerm: false, memberIgnoresTerm: true });
    process.kill(group, "SIGKILL");
    await exited;
    expect(processGroupMembers(group)).toHaveLength(1);
    await stopGroupLeftovers(group, { graceMs: 200 });
    await expect.poll(() => processGroupMembers(group)).toEqual([]);
  });

  it("resolves at once for a group with nothing left, however long the grace", async () => {
    // A group of one process, reaped by this one: no zombie can make the group look alive.
    const leader = spawn("sleep", ["30"], { detached: true, stdio: "ignore" });
    const group = leader.pid as number;
    leader.kill("SIGKILL");
    await once(leader, "exit");
    // A grace far longer than the test's timeout: only noticing the empty group ends the call in time.
    await expect(stopGroupLeftovers(group, { graceMs: 600_000 })).resolves.toBeUndefined();
  });
});
