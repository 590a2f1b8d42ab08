import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { descendantsOf, isProcessAlive } from "./process-tree.js";

describe("process tree", () => {
  it("finds grandchildren and sees them die", async () => {
    const child = spawn("sh", ["-c", "sleep 30 & echo $!; wait"], { stdio: ["ignore", "pipe", "ignore"] });
    const [data] = await once(child.stdout, "data");
    const grandchild = Number(String(data).trim());
    expect(descendantsOf(process.pid)).toEqual(expect.arrayContaining([child.pid, grandchild]));
    expect(isProcessAlive(grandchild)).toBe(true);
    process.kill(grandchild, "SIGKILL");
    await once(child, "exit");
    expect(isProcessAlive(grandchild)).toBe(false);
    expect(descendantsOf(process.pid)).not.toContain(grandchild);
  });
});
