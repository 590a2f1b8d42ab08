/**
 * `flotilla plugin test` through the real binary, against the local provider (passes, with the jobs of its
 * registry or of the command line) and a plugin that breaks the rules (fails, naming each one). Needs `tsc -b` first (runs the built CLI and plugins).
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
  it("passes the local provider with the jobs its registry names, one line per check, and exits 0", async () => {
    const result = await flotilla(["plugin", "test", "--", process.execPath, localPlugin]);
    expect(result.stdout).toMatch(/^ {2}✓ resumes the log from a cursor with no gap or repeat — /m);
    expect(result.stdout).toMatch(
      /^ {2}✓ cancels a running job, which ends CANCELLED and its followed log with it — CANCELLED, and a follower of its log saw the end$/m,
    );
    expect(result.stdout).toMatch(/^\d+ passed, 0 failed, 1 skipped$/m);
    expect(result.code).toBe(0);
  });

  it("reports JSON for CI, with the jobs given on the command line", async () => {
    const job = JSON.stringify({ command: ["sh", "-c", "echo one; echo two"] });
    const longJob = JSON.stringify({ command: ["sleep", "600"], timeout: "900s" });
    const json = await flotilla([
      "plugin",
      "test",
      "--json",
      "--job",
      job,
      "--long-job",
      longJob,
      "--",
      process.execPath,
      localPlugin,
    ]);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as { passed: boolean; checks: { name: string; detail: string }[] };
    expect(report.passed).toBe(true);
    expect(
      report.checks.find((c) => c.name === "ends a followed log once the job has ended and its log is drained"),
    ).toMatchObject({
      detail: "2 line(s)",
    });
  });

  it("fails a plugin that breaks the rules, naming each, and exits 1", async () => {
    const job = JSON.stringify({ command: ["true"] });
    const text = await flotilla(["plugin", "test", "--job", job, "--", process.execPath, carelessPlugin]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(
      /^ {2}✗ answers an unknown job handle with NOT_FOUND on every call — JobStatus of an unknown job answered a status; /m,
    );
    expect(text.stdout).toMatch(/^ {2}✗ lists regions sorted, without duplicates — region ids repeat: b, a, b$/m);
    expect(text.stdout).toMatch(
      /^ {2}- ends a followed log at the caller's deadline or cancel, and stays healthy — no long-running job: /m,
    );
    // Each of the three exit checks waits its full 10 s for a plugin that never leaves.
  }, 120_000);

  it("says how to give a job as JSON when --job is not JSON", async () => {
    const result = await flotilla(["plugin", "test", "--job", "echo hi", "--", process.execPath, localPlugin]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^flotilla: --job: not JSON \(.*\); e\.g\. --job '\{"command":\["sh","-c","echo hi"\]\}'$/m,
    );
  });

  it("names the field when --long-job is JSON but no JobSpec", async () => {
    const result = await flotilla(["plugin", "test", "--long-job", '{"comand":["sleep"]}', "--", "true"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^flotilla: --long-job: not a JobSpec \(.*"comand".*\); give its fields in the protobuf JSON mapping, e\.g\. --long-job '\{"command":\["sleep","600"\],"timeout":"900s"\}'$/m,
    );
  });
});
