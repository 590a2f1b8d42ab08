import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { isProcessAlive } from "./fixtures/process-table.js";
import { GroupWatchdog } from "./group-watchdog.js";

const builtWatchdog = fileURLToPath(new URL("../dist/group-watchdog.js", import.meta.url));
const leftovers: number[] = [];
afterEach(() => {
  for (const pid of leftovers.splice(0)) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {}
  }
});

describe("GroupWatchdog", () => {
  it("kills registered groups when their owner is SIGKILLed, and spares forgotten ones", async () => {
    // The owner: registers two detached process groups, forgets one, then waits to be killed.
    const owner = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import { spawn } from "node:child_process";
         import { GroupWatchdog } from ${JSON.stringify(builtWatchdog)};
         const watchdog = new GroupWatchdog();
         const kept = spawn("sleep", ["60"], { detached: true, stdio: "ignore" });
         const forgotten = spawn("sleep", ["60"], { detached: true, stdio: "ignore" });
         watchdog.add(kept.pid); watchdog.add(forgotten.pid); watchdog.remove(forgotten.pid);
         console.log(kept.pid, forgotten.pid, watchdog.pid);
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const [line] = (await once(owner.stdout, "data")) as [Buffer];
    const [kept, forgotten, watchdogPid] = String(line).trim().split(" ").map(Number) as [number, number, number];
    leftovers.push(kept, forgotten);
    expect(isProcessAlive(kept) && isProcessAlive(forgotten) && isProcessAlive(watchdogPid)).toBe(true);
    owner.kill("SIGKILL");
    await expect.poll(() => isProcessAlive(kept), { timeout: 15_000 }).toBe(false);
    // Once the watchdog has exited it can kill nothing more: only then does the forgotten group's
    // survival prove that it was spared.
    await expect.poll(() => isProcessAlive(watchdogPid), { timeout: 15_000 }).toBe(false);
    expect(isProcessAlive(forgotten)).toBe(true);
  });

  it("starts nothing until a group is registered", () => {
    expect(new GroupWatchdog().pid).toBeUndefined();
  });
});
