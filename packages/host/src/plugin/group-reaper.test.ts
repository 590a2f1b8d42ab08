import { spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { newMarker } from "./fixtures/fake-plugin.js";
import { eventually, processesMatching } from "./fixtures/proc-scan.js";
import { GroupReaper } from "./group-reaper.js";

let marker = newMarker();

afterEach(() => {
  for (const p of processesMatching(marker)) process.kill(p.pid, "SIGKILL");
  marker = newMarker();
});

/** A process leading its own group, ignoring SIGTERM, with a child of its own in that group. */
function stubbornGroup(): number {
  const code = `process.on("SIGTERM", () => {}); require("node:child_process").spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)", "${marker}"], { stdio: "ignore" }); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ["-e", code, marker], { detached: true, stdio: "ignore" });
  child.unref();
  return child.pid as number;
}

describe("GroupReaper", () => {
  it("kills every registered group, children included, when its pipe closes", async () => {
    const reaper = new GroupReaper();
    reaper.register(stubbornGroup());
    reaper.register(stubbornGroup());
    expect(await eventually(() => processesMatching(marker).length === 4)).toBe(true);
    await reaper.close();
    expect(await eventually(() => processesMatching(marker).length === 0, 3000)).toBe(true);
  });

  it("leaves alone a group that was forgotten", async () => {
    const reaper = new GroupReaper();
    const kept = stubbornGroup();
    reaper.register(kept);
    reaper.forget(kept);
    expect(await eventually(() => processesMatching(marker).length === 2)).toBe(true);
    await reaper.close();
    await new Promise((r) => setTimeout(r, 1500));
    expect(processesMatching(marker)).toHaveLength(2);
  });
});
