import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_MAX_LINE_BYTES } from "@flotilla/process";
import { isProcessRunning } from "@flotilla/test-support";
import { afterEach, describe, expect, it } from "vitest";
import { LocalRunner } from "./local-runner.js";
import type { LogLine } from "./sandbox-runner.js";

describe("LocalRunner", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("runs in the working directory with only the given env (plus PATH and HOME), separating stdout and stderr", async () => {
    const dir = mkdtempSync(join(tmpdir(), "flt-local-"));
    dirs.push(dir);
    process.env.FLOTILLA_TEST_HOST_ONLY = "leak";
    const lines: LogLine[] = [];
    const result = await new LocalRunner().run(
      {
        command: ["sh", "-c", 'pwd; echo "[$A][$FLOTILLA_TEST_HOST_ONLY]"; echo oops >&2'],
        env: { A: "1" },
        workingDir: dir,
        jobIdentity: { jobId: "env" },
      },
      { onLog: (line) => lines.push(line) },
    );
    delete process.env.FLOTILLA_TEST_HOST_ONLY;
    expect(result.exitCode).toBe(0);
    expect(lines).toEqual([
      { stream: "stdout", text: dir },
      { stream: "stdout", text: "[1][]" },
      { stream: "stderr", text: "oops" },
    ]);
  });

  it("resolves secret env through the configured resolver", async () => {
    const lines: LogLine[] = [];
    const runner = new LocalRunner({
      resolveSecret: async (ref) => (ref === "secret://api/token" ? "v4lue" : "wrong"),
    });
    await runner.run(
      {
        command: ["sh", "-c", 'case "$T" in v4*) echo ok;; esac'],
        secretEnv: { T: "secret://api/token" },
        jobIdentity: { jobId: "s" },
      },
      { onLog: (line) => lines.push(line) },
    );
    expect(lines.map((l) => l.text)).toEqual(["ok"]);
  });

  it("with inheritEnv, gives a run a secret under the name it asked for, not its source variable too", async () => {
    const value = "hx-secret-value-1234";
    process.env.FLOTILLA_TEST_HX_SECRET = value;
    const lines: LogLine[] = [];
    try {
      const runner = new LocalRunner({
        inheritEnv: true,
        resolveSecret: async (ref) => (ref === "secret://env/FLOTILLA_TEST_HX_SECRET" ? value : "wrong"),
      });
      await runner.run(
        {
          // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter length, not a template
          command: ["sh", "-c", 'env | grep -v "^DB_PASS="; echo "db=${#DB_PASS}"'],
          secretEnv: { DB_PASS: "secret://env/FLOTILLA_TEST_HX_SECRET" },
          jobIdentity: { jobId: "secret-source" },
        },
        { onLog: (line) => lines.push(line) },
      );
    } finally {
      delete process.env.FLOTILLA_TEST_HX_SECRET;
    }
    const printed = lines.map((l) => l.text);
    expect(printed).toContain(`db=${value.length}`);
    expect(printed.join("\n")).not.toContain(value);
  });

  it("reports a program that cannot start as a failed run", async () => {
    const result = await new LocalRunner().run({
      command: ["/nonexistent/program"],
      jobIdentity: { jobId: "missing" },
    });
    expect(result.reason).toBe("failed");
    expect(result.message).toContain("/nonexistent/program");
  });

  it("cancel kills the whole process group, not just the shell", async () => {
    const controller = new AbortController();
    let childPid = 0;
    const result = await new LocalRunner({ killGraceMs: 200 }).run(
      { command: ["sh", "-c", "sleep 60 & echo $!; wait"], jobIdentity: { jobId: "group" } },
      {
        signal: controller.signal,
        onLog: (line) => {
          childPid = Number(line.text);
          controller.abort();
        },
      },
    );
    expect(result.reason).toBe("cancelled");
    expect(childPid).toBeGreaterThan(0);
    await expect.poll(() => isProcessRunning(childPid), { timeout: 10_000 }).toBe(false);
  });

  it("ends when its main process ends: a background child left holding the output is stopped, not waited for", async () => {
    const lines: string[] = [];
    const run = new LocalRunner({ killGraceMs: 200 }).run(
      { command: ["sh", "-c", "sleep 300 & echo $!; exit 3"], jobIdentity: { jobId: "leftover" } },
      { onLog: (line) => lines.push(line.text) },
    );
    // Before, the run waited for the sleep (300 s): a bound far below that fails it.
    let result: Awaited<typeof run> | undefined;
    void run.then((r) => {
      result = r;
    });
    try {
      await expect.poll(() => result, { timeout: 15_000 }).toMatchObject({ exitCode: 3, reason: "exited" });
      await expect.poll(() => isProcessRunning(Number(lines[0])), { timeout: 10_000 }).toBe(false);
    } finally {
      if (lines[0] && isProcessRunning(Number(lines[0]))) process.kill(Number(lines[0]), "SIGKILL");
    }
  });

  it("a re-dispatch of a run in flight joins it instead of starting a second process", async () => {
    const runner = new LocalRunner();
    const lines: string[] = [];
    const request = { command: ["sh", "-c", "sleep 0.3; echo once"], jobIdentity: { jobId: "same" } };
    const [a, b] = await Promise.all([runner.run(request, { onLog: (l) => lines.push(l.text) }), runner.run(request)]);
    expect([a.reused, b.reused]).toEqual([false, true]);
    expect(lines).toEqual(["once"]);
  });

  it("delivers a line longer than the cap in pieces, so a job that never prints a newline cannot grow the host's memory", async () => {
    const lines: string[] = [];
    const length = DEFAULT_MAX_LINE_BYTES + 1000;
    await new LocalRunner().run(
      {
        command: ["sh", "-c", `head -c ${length} /dev/zero | tr '\\0' a; echo; echo next`],
        jobIdentity: { jobId: "long" },
      },
      { onLog: (line) => lines.push(line.text) },
    );
    expect(lines.map((l) => l.length)).toEqual([DEFAULT_MAX_LINE_BYTES, 1000, 4]);
    expect(lines.join("")).toBe(`${"a".repeat(length)}next`);
  });

  it("refuses an empty command", async () => {
    await expect(new LocalRunner().run({ command: [], jobIdentity: { jobId: "e" } })).rejects.toThrow(
      "local runner: command is empty",
    );
  });
});
