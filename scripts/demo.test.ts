import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const demo = fileURLToPath(new URL("./demo.mjs", import.meta.url));

describe("the demo behind `npm start`", () => {
  it("runs a job end to end through the local provider plugin and reports its exit code", () => {
    const result = spawnSync(process.execPath, [demo], { encoding: "utf8", timeout: 60_000 });
    expect(result.stderr).not.toMatch(/^demo: /m);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^services +flotilla\.plugin\.v1\.IaCProviderRunnerService$/m);
    expect(result.stdout).toContain("stdout line 3 of the job");
    expect(result.stderr).toContain("stderr line 3 of the job");
    expect(result.stdout).toMatch(/flotilla run exited with 3, the job's own exit code/);
  });
});
