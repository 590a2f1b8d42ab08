/**
 * Issue 16 item 6: clients in other languages drive a running `flotilla serve` through the host API —
 * the Go example (examples/go-host-client: grpc-go and the buf-generated Go stubs) and the Python example
 * (examples/python-host-client: grpcio and the buf-generated Python stubs) each list the providers, run a
 * job, stream its log and read its real exit code, over TCP with a bearer token and over a Unix socket.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runCommand } from "./run-command.js";
import {
  type GoToolchain,
  type PythonToolchain,
  prepareGo,
  preparePython,
  pythonGenDir,
  repoRoot,
} from "./toolchain.js";

const TOOLCHAIN_TIMEOUT = 25 * 60_000;
const cliMain = join(repoRoot, "packages", "cli", "dist", "main.js");
const goExample = join(repoRoot, "examples", "go-host-client");
const pythonExample = join(repoRoot, "examples", "python-host-client", "client.py");
const TOKEN = "host-api-clients-token";

interface ClientReport {
  providers: string[];
  handle: { provider: string; jobId: string };
  lines: { stream: string; text: string }[];
  state: string;
  exitCode: number | null;
}

describe("host API clients in other languages", () => {
  let go: GoToolchain;
  let py: PythonToolchain;
  let work = "";
  let goClient = "";
  const servers: ChildProcess[] = [];

  beforeAll(async () => {
    [go, py] = await Promise.all([prepareGo(), preparePython()]);
    work = await mkdtemp(join(tmpdir(), "flotilla-host-clients-"));
    await writeFile(join(work, "flotilla.yaml"), "journal: journal.db\n");
    goClient = join(work, "go-host-client");
    // The example builds as its README says, against the stubs prepareGo generated.
    await runCommand("go", ["build", "-o", goClient, "."], { cwd: goExample, env: go.env, timeoutMs: 15 * 60_000 });
  }, TOOLCHAIN_TIMEOUT);
  afterEach(() => {
    for (const child of servers.splice(0)) child.kill("SIGTERM");
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** Starts `flotilla serve ARGS` and resolves with the address it prints. */
  function serve(args: string[], env: Record<string, string>): Promise<string> {
    const child = spawn(process.execPath, [cliMain, "serve", ...args], {
      cwd: work,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: work, XDG_STATE_HOME: join(work, "state"), ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    servers.push(child);
    let stderr = "";
    child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    return new Promise((resolve, reject) => {
      let stdout = "";
      child.stdout?.setEncoding("utf8").on("data", (d: string) => {
        stdout += d;
        if (stdout.includes("\n")) resolve(stdout.split("\n")[0] as string);
      });
      child.on("close", (code) => reject(new Error(`flotilla serve exited with ${code}:\n${stderr}`)));
    });
  }

  const clients = {
    go: (address: string, command: string, env: Record<string, string>) =>
      runCommand(goClient, [address, command], { env: { PATH: process.env.PATH, ...env }, timeoutMs: 120_000 }),
    python: (address: string, command: string, env: Record<string, string>) =>
      runCommand(py.python, [pythonExample, address, command], {
        env: { ...py.env, PYTHONPATH: pythonGenDir, ...env },
        timeoutMs: 120_000,
      }),
  };

  for (const language of ["go", "python"] as const) {
    it(`${language}: lists providers, runs a job, streams its log and reads its exit code, with a bearer token over TCP`, async () => {
      const address = await serve(["--listen", "127.0.0.1:0"], { FLOTILLA_SERVE_TOKEN: TOKEN });
      const { stdout } = await clients[language](
        address,
        `echo one-${language}; echo two-${language}; echo err >&2; exit 6`,
        { FLOTILLA_SERVE_TOKEN: TOKEN },
      );
      const report = JSON.parse(stdout) as ClientReport;
      expect(report.providers).toEqual(["local"]);
      expect(report.handle.provider).toBe("local");
      expect(report.lines.filter((l) => l.stream === "LOG_STREAM_STDOUT").map((l) => l.text)).toEqual([
        `one-${language}`,
        `two-${language}`,
      ]);
      expect(report.lines.filter((l) => l.stream === "LOG_STREAM_STDERR").map((l) => l.text)).toEqual(["err"]);
      expect(report.state).toBe("JOB_STATE_FAILED");
      expect(report.exitCode).toBe(6);
    }, 180_000);

    it(`${language}: is turned away without the token`, async () => {
      const address = await serve(["--listen", "127.0.0.1:0"], { FLOTILLA_SERVE_TOKEN: TOKEN });
      await expect(clients[language](address, "true", {})).rejects.toThrow(/UNAUTHENTICATED|Unauthenticated/);
    }, 180_000);

    it(`${language}: works over a Unix socket`, async () => {
      const socket = join(work, `${language}.sock`);
      const address = await serve(["--listen", `unix:${socket}`, "--allow-unauthenticated-socket"], {});
      const { stdout } = await clients[language](address, "echo over-the-socket", {});
      const report = JSON.parse(stdout) as ClientReport;
      expect(report.lines.map((l) => l.text)).toEqual(["over-the-socket"]);
      expect(report.state).toBe("JOB_STATE_SUCCEEDED");
      expect(report.exitCode).toBe(0);
    }, 180_000);
  }
});
