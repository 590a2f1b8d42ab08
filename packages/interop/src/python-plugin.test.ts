/**
 * Issue 13, a plugin in another language: the Python example plugin (examples/python-provider:
 * grpcio, the buf-generated stubs, no SDK) passes the conformance suite as an author would run it,
 * `flotilla plugin test --json`, with AutoMTLS (the default) and over plain TCP; the `flotilla` CLI
 * runs a job on it through flotilla.yaml; run by hand, it says it is a plugin.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runConformance } from "@flotilla/plugin-sdk/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CommandError, runCommand } from "./run-command.js";
import { type PythonToolchain, preparePython, pythonExampleDir, pythonGenDir, repoRoot } from "./toolchain.js";

const TOOLCHAIN_TIMEOUT = 25 * 60_000;
const cliMain = join(repoRoot, "packages", "cli", "dist", "main.js");
const pluginPy = join(pythonExampleDir, "plugin.py");

/** `flotilla ARGS...` through the built CLI: its exit code and output, whatever the code. */
async function flotilla(args: string[], cwd = repoRoot): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await runCommand(process.execPath, [cliMain, ...args], { cwd, timeoutMs: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    if (!(error instanceof CommandError) || error.exitCode === undefined) throw error;
    return { code: error.exitCode, stdout: error.stdout, stderr: error.stderr };
  }
}

describe("the Python example plugin", () => {
  let py: PythonToolchain;
  let work = "";
  // A host grants a plugin only the variables it is given: the stubs' path travels in the command.
  const command = () => ["env", `PYTHONPATH=${pythonGenDir}`, py.python, pluginPy];

  beforeAll(async () => {
    py = await preparePython();
    work = await mkdtemp(join(tmpdir(), "flotilla-py-plugin-"));
  }, TOOLCHAIN_TIMEOUT);
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("passes `flotilla plugin test --json` with the jobs its registry names, under AutoMTLS", async () => {
    const result = await flotilla(["plugin", "test", "--json", "--", ...command()]);
    const report = JSON.parse(result.stdout) as {
      passed: boolean;
      checks: { name: string; status: string; detail: string }[];
    };
    expect(report.checks.filter((check) => check.status === "failed")).toEqual([]);
    expect(result.code).toBe(0);
    const detail = (name: string) => report.checks.find((check) => check.name === name)?.detail;
    expect(detail("prints a go-plugin handshake line")).toMatch(/^grpc over unix at \S+, .*, AutoMTLS$/);
    expect(detail("lists its optional services in its registry exactly as it serves them")).toBe(
      "python-example 0.1.0: IaCProviderRunner",
    );
    expect(detail("runs a job and answers with its handle")).toMatch(/\(registry's job\)$/);
    expect(detail("resumes the log from a cursor with no gap or repeat")).toBe(
      "resumed from the first, a middle and the last line",
    );
    expect(detail("cancels a running job, which ends CANCELLED and its followed log with it")).toBe(
      "CANCELLED, and a follower of its log saw the end",
    );
    expect(detail("exits when its host dies (host killed with SIGKILL)")).toBe("exited");
    // Only the services it does not offer are skipped.
    expect(report.checks.filter((check) => check.status === "skipped").map((check) => check.name)).toEqual([
      "lists regions sorted, without duplicates",
      "refuses a replica count outside int32 with INVALID_ARGUMENT",
    ]);
  }, 180_000);

  it("passes over plain gRPC on TCP, within the port range the host gives", async () => {
    const [executable, ...args] = command();
    const report = await runConformance(executable as string, args, {
      autoMtls: false,
      env: { FLOTILLA_PLUGIN_NETWORK: "tcp", PLUGIN_MIN_PORT: "42100", PLUGIN_MAX_PORT: "42199" },
    });
    expect(report.checks.filter((check) => check.status === "failed")).toEqual([]);
    expect(report.checks[0]?.detail).toMatch(/^grpc over tcp at 127\.0\.0\.1:421\d\d, /);
  }, 180_000);

  it("runs a job through flotilla.yaml, with its configured env and the job's real exit code", async () => {
    await writeFile(
      join(work, "flotilla.yaml"),
      [
        "default_provider: py",
        "plugins:",
        "  py:",
        `    command: ${JSON.stringify(command())}`,
        "    config: { env: { GREETING: hello } }",
        "",
      ].join("\n"),
    );
    const result = await flotilla(["run", "--", "sh", "-c", 'echo "$GREETING from python"; exit 3'], work);
    expect(result.stdout).toBe("hello from python\n");
    expect(result.code).toBe(3);
  }, 120_000);

  it("refuses to run by hand, saying a host starts it", async () => {
    const error = await runCommand(py.python, [pluginPy], { env: { ...py.env } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect((error as CommandError).exitCode).toBe(1);
    expect((error as CommandError).stderr).toMatch(
      /^This is the python-example Flotilla provider plugin; a Flotilla host starts it/,
    );
  }, 60_000);
});
