import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { isProcessAlive, isProcessGroupAlive } from "./liveness.js";

const builtLiveness = fileURLToPath(new URL("../dist/liveness.js", import.meta.url));
const NOBODY = 65534;

describe("isProcessAlive", () => {
  it("is true for a running process and false once it has exited and been reaped", async () => {
    const child = spawn("sleep", ["30"]);
    const pid = child.pid as number;
    expect(isProcessAlive(pid)).toBe(true);
    child.kill("SIGKILL");
    // Node reaps its child before it emits "exit": from then on the pid is free.
    await once(child, "exit");
    expect(isProcessAlive(pid)).toBe(false);
    expect(isProcessAlive(process.pid)).toBe(true);
  });

  it("counts a process it may not signal (EPERM) as alive", () => {
    // EPERM needs a process of another user. As root, every process may be signalled, so the probe runs as
    // nobody and asks about this (root's) process; as anyone else, init is such a process.
    const asRoot = process.getuid?.() === 0;
    const target = asRoot ? process.pid : 1;
    const probe = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import { isProcessAlive } from ${JSON.stringify(builtLiveness)};
         try { process.kill(${target}, 0); console.log("signalled"); } catch (e) { console.log(e.code); }
         console.log(isProcessAlive(${target}));`,
      ],
      { encoding: "utf8", cwd: "/", ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}) },
    );
    expect(probe.stderr).toBe("");
    expect(probe.stdout.trim().split("\n")).toEqual(["EPERM", "true"]);
  });

  it("refuses ids that kill(2) reads as a group or as every process", () => {
    for (const id of [0, -1, -42, 1.5, Number.NaN]) {
      expect(() => isProcessAlive(id)).toThrow(RangeError);
      expect(() => isProcessGroupAlive(id)).toThrow(RangeError);
    }
  });
});

describe("isProcessGroupAlive", () => {
  it("is true while a member of the group is left, after its leader has exited too", async () => {
    // The leader starts a member in its group, prints its pid and exits.
    const leader = spawn("sh", ["-c", "sleep 30 & echo $!"], { detached: true, stdio: ["ignore", "pipe", "ignore"] });
    const group = leader.pid as number;
    const [data] = (await once(leader.stdout, "data")) as [Buffer];
    const member = Number(String(data).trim());
    await once(leader, "exit");
    try {
      expect(isProcessAlive(group)).toBe(false);
      expect(isProcessGroupAlive(group)).toBe(true);
    } finally {
      process.kill(member, "SIGKILL");
    }
  });

  it("is false once the group's only process has exited", async () => {
    const leader = spawn("sleep", ["30"], { detached: true, stdio: "ignore" });
    const group = leader.pid as number;
    expect(isProcessGroupAlive(group)).toBe(true);
    leader.kill("SIGKILL");
    await once(leader, "exit");
    expect(isProcessGroupAlive(group)).toBe(false);
  });
});
