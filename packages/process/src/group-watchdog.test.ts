import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { isProcessRunning, processGroupMembers } from "@flotilla/test-support";
import { afterEach, describe, expect, it } from "vitest";
import { killStartedGroups, startGroup } from "./fixtures/process-groups.js";
import { ProcessGroupWatchdog } from "./group-watchdog.js";

const builtWatchdog = fileURLToPath(new URL("../dist/group-watchdog.js", import.meta.url));
const stubborn = { leaderIgnoresTerm: true, memberIgnoresTerm: true };

const leftovers: number[] = [];
afterEach(() => {
  killStartedGroups();
  for (const pid of leftovers.splice(0)) for (const member of processGroupMembers(pid)) process.kill(member, "SIGKILL");
});

describe("ProcessGroupWatchdog", () => {
  it("kills every registered group, members that ignore SIGTERM included, when it is closed", async () => {
    const watchdog = new ProcessGroupWatchdog({ graceMs: 200 });
    const first = await startGroup(stubborn);
    const second = await startGroup(stubborn);
    watchdog.register(first.group);
    watchdog.register(second.group);
    await watchdog.close();
    await expect.poll(() => [...processGroupMembers(first.group), ...processGroupMembers(second.group)]).toEqual([]);
  });

  it("leaves alone a group that was forgotten", async () => {
    const watchdog = new ProcessGroupWatchdog({ graceMs: 200 });
    const forgotten = await startGroup(stubborn);
    const registered = await startGroup(stubborn);
    watchdog.register(forgotten.group);
    watchdog.register(registered.group);
    watchdog.forget(forgotten.group);
    // close() resolves once the watchdog has exited, its kills all sent; the group it still knew is gone once
    // they have landed, and the forgotten one, which it would have signalled first, is not.
    await watchdog.close();
    await expect.poll(() => processGroupMembers(registered.group)).toEqual([]);
    expect(processGroupMembers(forgotten.group)).toHaveLength(2);
  });

  it("kills registered groups when its owner is SIGKILLed, and spares forgotten ones", async () => {
    // The owner: registers two detached process groups, forgets one, then waits to be killed.
    const owner = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import { spawn } from "node:child_process";
         import { ProcessGroupWatchdog } from ${JSON.stringify(builtWatchdog)};
         const watchdog = new ProcessGroupWatchdog({ graceMs: 200 });
         const kept = spawn("sleep", ["60"], { detached: true, stdio: "ignore" });
         const forgotten = spawn("sleep", ["60"], { detached: true, stdio: "ignore" });
         watchdog.register(kept.pid); watchdog.register(forgotten.pid); watchdog.forget(forgotten.pid);
         console.log(kept.pid, forgotten.pid, watchdog.pid);
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const [line] = (await once(owner.stdout, "data")) as [Buffer];
    const [kept, forgotten, watchdogPid] = String(line).trim().split(" ").map(Number) as [number, number, number];
    leftovers.push(kept, forgotten);
    expect(isProcessRunning(kept) && isProcessRunning(forgotten) && isProcessRunning(watchdogPid)).toBe(true);
    owner.kill("SIGKILL");
    await expect.poll(() => isProcessRunning(kept), { timeout: 15_000 }).toBe(false);
    // Once the watchdog has exited it can kill nothing more: only then does the forgotten group's
    // survival prove that it was spared.
    await expect.poll(() => isProcessRunning(watchdogPid), { timeout: 15_000 }).toBe(false);
    expect(isProcessRunning(forgotten)).toBe(true);
  });

  it("starts again when it was killed, and still knows the groups registered before", async () => {
    const watchdog = new ProcessGroupWatchdog({ graceMs: 200 });
    const before = await startGroup(stubborn);
    watchdog.register(before.group);
    const firstPid = watchdog.pid as number;
    process.kill(firstPid, "SIGKILL");
    await expect.poll(() => watchdog.pid).toBeUndefined();
    const after = await startGroup(stubborn);
    watchdog.register(after.group);
    expect(watchdog.pid).not.toBe(firstPid);
    await watchdog.close();
    await expect.poll(() => [...processGroupMembers(before.group), ...processGroupMembers(after.group)]).toEqual([]);
  });

  it("starts nothing until a group is registered, and refuses an id that is not a group's", () => {
    const watchdog = new ProcessGroupWatchdog();
    expect(watchdog.pid).toBeUndefined();
    expect(() => watchdog.register(0)).toThrow(RangeError);
    expect(watchdog.pid).toBeUndefined();
  });
});
