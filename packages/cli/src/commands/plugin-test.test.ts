/**
 * `flotilla plugin test` through the real binary, against the local provider (passes) and a plugin that
 * breaks the rules (fails, naming each one). Needs `tsc -b` first (runs the built CLI and plugins).
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const cliMain = fileURLToPath(new URL("../../dist/main.js", import.meta.url));
const localPlugin = fileURLToPath(new URL("../../../plugin-local/dist/main.js", import.meta.url));
// A plugin fixture of the SDK's own tests; the repository's tests may reach into another package's tree.
const carelessPlugin = fileURLToPath(
  new URL("../../../plugin-sdk/dist/testing/fixtures/careless-plugin.js", import.meta.url),
);

function flotilla(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cliMain, ...args], { timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe("flotilla plugin test", () => {
  it("passes the local provider, one line per check, and exits 0", async () => {
    const job = JSON.stringify({ command: ["sh", "-c", "echo one; echo two"] });
    const result = await flotilla(["plugin", "test", "--job", job, "--", process.execPath, localPlugin]);
    expect(result.stdout).toMatch(/^ {2}✓ resumes the log from a cursor with no gap or repeat — /m);
    expect(result.stdout).toMatch(/^\d+ passed, 0 failed, 0 skipped$/m);
    expect(result.code).toBe(0);
  });

  it("fails a plugin that breaks the rules, naming each, exits 1, and reports JSON for CI", async () => {
    const job = JSON.stringify({ command: ["true"] });
    const text = await flotilla(["plugin", "test", "--job", job, "--", process.execPath, carelessPlugin]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(
      /^ {2}✗ answers an unknown job handle with NotFound — JobStatus of an unknown job answered a status; answer NOT_FOUND/m,
    );
    const json = await flotilla(["plugin", "test", "--json", "--job", job, "--", process.execPath, carelessPlugin]);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as { passed: boolean; checks: { name: string; status: string }[] };
    expect(report.passed).toBe(false);
    expect(report.checks.find((c) => c.name === "lists regions sorted, without duplicates")?.status).toBe("failed");
  });

  it("says how to give a job as JSON when --job is not JSON", async () => {
    const result = await flotilla(["plugin", "test", "--job", "echo hi", "--", process.execPath, localPlugin]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^flotilla: --job: not JSON \(.*\); e\.g\. --job '\{"command":\["sh","-c","echo hi"\]\}'$/m,
    );
  });
});
