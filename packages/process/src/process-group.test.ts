import { processGroupMembers } from "@flotilla/test-support";
import { afterEach, describe, expect, it } from "vitest";
import { killStartedGroups, startGroup } from "./fixtures/process-groups.js";
import { signalProcessGroup, terminateProcessGroup } from "./process-group.js";

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
