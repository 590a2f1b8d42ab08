import { spawn } from "node:child_process";
import { eventually, processesMatching } from "@flotilla/test-support";
import { afterEach, describe, expect, it } from "vitest";
import { newMarker } from "./fixtures/fake-plugin.js";
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
    expect(await eventually(() => processesMatching(marker).length === 0)).toBe(true);
  });

  it("leaves alone a group that was forgotten", async () => {
    const reaper = new GroupReaper();
    const forgotten = stubbornGroup();
    const registered = stubbornGroup();
    reaper.register(forgotten);
    reaper.register(registered);
    reaper.forget(forgotten);
    expect(await eventually(() => processesMatching(marker).length === 4)).toBe(true);
    // close() resolves once the watchdog has exited, its kills all sent; the group it still knew
    // is gone once they have landed, and the forgotten one, which it would have signalled first, is not.
    await reaper.close();
    const survivors = () => processesMatching(marker).map((p) => p.pid);
    expect(await eventually(() => !survivors().includes(registered))).toBe(true);
    expect(survivors()).toContain(forgotten);
    expect(survivors()).toHaveLength(2);
  });
});
