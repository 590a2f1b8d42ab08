/**
 * `flotilla run` giving up on a job it cannot follow must cancel it on the
 * provider: stopping the plugin ends local jobs, not cloud tasks. Runs the
 * built CLI (needs `tsc -b`) against a fixture plugin whose log and status
 * never work. (A log alone that cannot be read is a warning, not a reason to
 * stop the job: run-follow.test.ts.)
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const cliMain = fileURLToPath(new URL("../../dist/main.js", import.meta.url));
const fixture = fileURLToPath(new URL("../fixtures/unfollowable-plugin.mjs", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "flotilla-unfollowable-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("flotilla run with a job that cannot be followed", () => {
  it("cancels the job on the provider, says so, and exits non-zero", async () => {
    const cancelFile = join(dir, "cancelled.txt");
    writeFileSync(
      join(dir, "flotilla.yaml"),
      `plugins:\n  broken:\n    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(fixture)}]\n    env: { CANCEL_FILE: ${JSON.stringify(cancelFile)} }\n`,
    );
    const child = spawn(process.execPath, [cliMain, "run", "--provider", "broken", "--", "sleep", "60"], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).not.toBe(0);
    expect(code).toBe(2);
    expect(stderr).toMatch(
      /warning: could not fetch the log of job job-1 from provider "broken": .*log backend is broken/,
    );
    expect(stderr).toMatch(/cancelled job job-1 on provider "broken", which could no longer be followed/);
    expect(stderr).toMatch(/status backend is broken/);
    expect(stderr).toMatch(/check it with `flotilla jobs status broken:job-1`/);
    expect(existsSync(cancelFile) && readFileSync(cancelFile, "utf8")).toBe("job-1\n");
  });
});
