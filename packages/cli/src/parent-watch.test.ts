/**
 * The CLI behind a shell that does not exec it — as `npx flotilla` runs,
 * through pnpm's `node` shim — must not outlive that shell with its job.
 * Needs `tsc -b` first (runs the built CLI and local provider plugin).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { descendantsOf, isProcessRunning } from "@flotilla/test-support";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { watchParent } from "./parent-watch.js";

const cliMain = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "flotilla-parent-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  for (const end = Date.now() + timeoutMs; Date.now() < end; ) {
    if (condition()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return condition();
}

describe("watchParent", () => {
  describe("on a test clock", () => {
    beforeEach(() => {
      vi.useFakeTimers();
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it("does nothing while the parent lives, and calls back once when it changes", () => {
      let parent = 4242;
      const calls: string[] = [];
      const stop = watchParent(
        () => calls.push("parent gone"),
        10,
        () => parent,
      );
      vi.advanceTimersByTime(1000);
      expect(calls).toEqual([]);
      parent = 1;
      vi.advanceTimersByTime(10);
      expect(calls).toEqual(["parent gone"]);
      vi.advanceTimersByTime(1000);
      expect(calls).toEqual(["parent gone"]);
      stop();
    });

    it("stops watching when told to", () => {
      let parent = 4242;
      const calls: string[] = [];
      const stop = watchParent(
        () => calls.push("parent gone"),
        10,
        () => parent,
      );
      stop();
      parent = 1;
      vi.advanceTimersByTime(1000);
      expect(calls).toEqual([]);
    });
  });

  it("a SIGTERM to a non-exec'ing shell in front of the CLI cancels the job; nothing is left running", async () => {
    // `; exit $?` keeps sh from exec-ing node, exactly like pnpm's shim.
    const shell = spawn(
      "/bin/sh",
      ["-c", '"$0" "$@"; exit $?', process.execPath, cliMain, "run", "--", "sh", "-c", "echo started; sleep 60"],
      { cwd: dir, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir }, stdio: ["ignore", "pipe", "pipe"] },
    );
    try {
      let stdout = "";
      shell.stdout?.setEncoding("utf8").on("data", (d: string) => {
        stdout += d;
      });
      expect(await until(() => stdout.includes("started"), 30_000)).toBe(true);
      const tree = descendantsOf(shell.pid as number);
      // The CLI, the plugin, the job's shell and its sleep.
      expect(tree.length).toBeGreaterThanOrEqual(4);
      shell.kill("SIGTERM");
      expect(await until(() => !tree.some(isProcessRunning), 20_000)).toBe(true);
    } finally {
      if (shell.exitCode === null) shell.kill("SIGKILL");
    }
  });
});
