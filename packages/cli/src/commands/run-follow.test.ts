/**
 * How `flotilla run` follows a job, in process, against a scripted provider
 * plugin (fixtures/scripted-plugin.mjs) started as a real plugin over gRPC:
 * the exit code for each terminal status, retried status calls, resumed logs.
 * The command uses @flotilla/exec's ProviderRunner, so each case here is the
 * one behaviour `provider-ephemeral` runs have too (provider-runner.test.ts).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { capturedIo } from "../fixtures/streams.js";
import { runCommand } from "./run.js";

const fixture = fileURLToPath(new URL("../fixtures/scripted-plugin.mjs", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "flotilla-run-follow-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let runs = 0;

/** Runs `flotilla run --provider scripted -- job` with the plugin following `script`. */
async function runScripted(script: object): Promise<{ code: number; out: string; err: string; calls: string[] }> {
  runs += 1;
  const callsFile = join(dir, `calls-${runs}.jsonl`);
  writeFileSync(callsFile, "");
  const config = join(dir, `flotilla-${runs}.yaml`);
  writeFileSync(
    config,
    `journal: journal-${runs}.db\nplugins:\n  scripted:\n    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(fixture)}]\n    env: { SCRIPT: ${JSON.stringify(JSON.stringify(script))}, CALLS_FILE: ${JSON.stringify(callsFile)} }\n`,
  );
  const io = capturedIo();
  const code = await runCommand(["job"], { provider: "scripted", config }, io);
  const calls = readFileSync(callsFile, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const call = JSON.parse(line) as { rpc: string; cursor?: string; key?: string };
      if (call.key !== undefined) return `${call.rpc}[key ${/^[0-9a-f-]{32,36}$/.test(call.key) ? "set" : call.key}]`;
      return call.cursor === undefined ? call.rpc : `${call.rpc}(${JSON.stringify(call.cursor)})`;
    });
  return { code, out: io.out(), err: io.err(), calls };
}

describe("flotilla run following a provider job", { timeout: 60_000 }, () => {
  // The provider runner's old mapping ended such a job with exit code 0.
  it("never exits 0 for a job the provider reports FAILED with exit code 0: exit 1, with the reason", async () => {
    const { code, out, err } = await runScripted({
      lines: ["working"],
      final: { state: "FAILED", exitCode: 0, reason: "Essential container in task exited" },
    });
    expect(code).toBe(1);
    expect(out).toBe("working\n");
    expect(err).toContain(
      "flotilla: job scripted:job-1 FAILED (exit code 0; exiting with 1): the provider reports the job FAILED although its exit code is 0: Essential container in task exited",
    );
  });

  it.each([
    // The provider runner's old mapping passed a cancelled job's own exit code through.
    [{ state: "CANCELLED", exitCode: 0 }, 130],
    [{ state: "FAILED" }, 1],
    [{ state: "FAILED", exitCode: 7 }, 7],
    // The provider runner's old mapping ended an UNKNOWN job with 1 whatever its exit code.
    [{ state: "UNKNOWN", exitCode: 3 }, 3],
    [{ state: "UNKNOWN" }, 1],
  ])("a job ending %o exits %i", async (final, expected) => {
    const { code } = await runScripted({ lines: ["x"], final });
    expect(code).toBe(expected);
  });

  // The CLI's old copy gave up on the job (and cancelled it) at the first failed JobStatus.
  it("retries job status calls that fail with Unavailable, and the job's result stands", async () => {
    const { code, out, err, calls } = await runScripted({ lines: ["a", "b", "c"], statusFailures: 3 });
    expect(err).not.toMatch(/Unavailable|cancel/i);
    expect(code).toBe(0);
    expect(out).toBe("a\nb\nc\n");
    expect(calls).not.toContain("CancelJob");
    expect(calls.filter((c) => c.endsWith("JobStatus")).length).toBeGreaterThan(3);
  });

  it("resumes a broken log stream after the last line it received: nothing lost, nothing repeated", async () => {
    const { code, out, calls } = await runScripted({ lines: ["1", "2", "3", "4"], logBreaksAfter: 2 });
    expect(code).toBe(0);
    expect(out).toBe("1\n2\n3\n4\n");
    expect(calls.filter((c) => c.startsWith("JobLogs"))).toEqual(['JobLogs("")', 'JobLogs("2")']);
  });

  // The CLI's old copy cancelled the job when its log could not be read.
  it("warns when the job's log cannot be read, but lets the job run and exits with its exit code", async () => {
    const { code, err, calls } = await runScripted({
      lines: ["unseen"],
      logFails: true,
      final: { state: "FAILED", exitCode: 5 },
    });
    expect(code).toBe(5);
    expect(err).toMatch(
      /warning: could not fetch the log of job job-1 from provider "scripted": .*log backend is broken/,
    );
    expect(calls).not.toContain("CancelJob");
  });

  it("sends RunJob once, with an idempotency key, so a retry cannot start a second job", async () => {
    const { calls } = await runScripted({ lines: [] });
    expect(calls.filter((c) => c.startsWith("RunJob"))).toEqual(["RunJob[key set]"]);
  });
});
