import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { isProcessAlive } from "./process-table.js";

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
