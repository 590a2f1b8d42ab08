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
import { type AncestryProbe, procAncestry, watchAncestors } from "./parent-watch.js";

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

/** A probe over a made-up process table the test changes. */
function fakeAncestry(ancestors: number[], parent = ancestors[0] ?? 1) {
  const running = new Set(ancestors);
  const probe: AncestryProbe = {
    ancestors: () => ancestors.map((pid) => ({ pid, startTime: "1" })),
    isRunning: ({ pid }) => running.has(pid),
    parentPid: () => parent,
  };
  return { probe, running, setParent: (pid: number) => (parent = pid) };
}

describe("watchAncestors", () => {
  describe("on a test clock", () => {
    beforeEach(() => {
      vi.useFakeTimers();
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it("does nothing while every ancestor lives, and calls back once when any of them exits", () => {
      // CLI <- pnpm's node shim <- the bin's shim <- npx <- the user's shell
      const table = fakeAncestry([400, 300, 200, 100]);
      const calls: string[] = [];
      const stop = watchAncestors(() => calls.push("gone"), 10, table.probe);
      vi.advanceTimersByTime(1000);
      expect(calls).toEqual([]);
      // `timeout` stops npx; the shims in between live on.
      table.running.delete(200);
      vi.advanceTimersByTime(10);
      expect(calls).toEqual(["gone"]);
      vi.advanceTimersByTime(1000);
      expect(calls).toEqual(["gone"]);
      stop();
    });

    it("falls back to a change of parent where the ancestors cannot be read", () => {
      const table = fakeAncestry([], 4242);
      table.probe.ancestors = () => [];
      const calls: string[] = [];
      watchAncestors(() => calls.push("gone"), 10, table.probe);
      vi.advanceTimersByTime(1000);
      expect(calls).toEqual([]);
      table.setParent(1);
      vi.advanceTimersByTime(10);
      expect(calls).toEqual(["gone"]);
    });

    it("stops watching when told to, and watches nothing under init", () => {
      const table = fakeAncestry([300, 200]);
      const calls: string[] = [];
      const stop = watchAncestors(() => calls.push("gone"), 10, table.probe);
      stop();
      table.running.clear();
      vi.advanceTimersByTime(1000);
      expect(calls).toEqual([]);
      watchAncestors(() => calls.push("gone"), 10, fakeAncestry([], 1).probe);
      vi.advanceTimersByTime(1000);
      expect(calls).toEqual([]);
    });
  });

  it("reads this process's real ancestors from /proc, each running, the parent first", () => {
    const ancestors = procAncestry.ancestors();
    expect(ancestors[0]?.pid).toBe(process.ppid);
    expect(ancestors.every((ancestor) => procAncestry.isRunning(ancestor))).toBe(true);
    expect(procAncestry.isRunning({ pid: process.ppid, startTime: "not-its-start-time" })).toBe(false);
  });

  // `; exit $?` keeps sh from exec-ing the next program, exactly like pnpm's shims; the second case puts
  // two such shells in front (npx, then a shim), so the one killed is not the CLI's parent.
  const notExecing = '"$0" "$@"; exit $?';
  it.each([
    { wrappers: "a non-exec'ing shell", script: [notExecing], processes: 4 },
    {
      wrappers: "the outermost of two non-exec'ing shells",
      script: [`/bin/sh -c ${notExecing}`, notExecing],
      processes: 5,
    },
  ])(
    "a SIGTERM to $wrappers in front of the CLI cancels the job; nothing is left running",
    async ({ script, processes }) => {
      const command = [process.execPath, cliMain, "run", "--", "sh", "-c", "echo started; sleep 60"];
      const shell = spawn("/bin/sh", ["-c", ...script, ...command], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir },
        stdio: ["ignore", "pipe", "pipe"],
      });
      try {
        let stdout = "";
        shell.stdout?.setEncoding("utf8").on("data", (d: string) => {
          stdout += d;
        });
        expect(await until(() => stdout.includes("started"), 30_000)).toBe(true);
        const tree = descendantsOf(shell.pid as number);
        // Any inner shells, the CLI, the plugin, the job's shell and its sleep.
        expect(tree.length).toBeGreaterThanOrEqual(processes);
        shell.kill("SIGTERM");
        expect(await until(() => !tree.some(isProcessRunning), 20_000)).toBe(true);
      } finally {
        if (shell.exitCode === null) shell.kill("SIGKILL");
      }
    },
  );
});
