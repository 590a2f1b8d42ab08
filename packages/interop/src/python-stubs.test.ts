/**
 * Issue 3 item 5, Python: buf generates Python stubs for the whole contract
 * with grpcio-tools from PyPI (pinned in python/requirements.txt, installed
 * into a venv under the ignored cache), Python imports them, encodes a
 * message the TypeScript side decodes, and makes one gRPC call between a
 * generated stub and a generated servicer.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contractServiceNames, decodeRunJobRequest, expectedRunJobRequestJson } from "./expected-contract.js";
import { runCommand } from "./run-command.js";
import { interopDir, type PythonToolchain, preparePython, repoRoot } from "./toolchain.js";

const TOOLCHAIN_TIMEOUT = 25 * 60_000;

describe("Python stubs generated with buf", () => {
  let py: PythonToolchain;
  // A short directory for a Unix socket: paths are capped at about 108 bytes.
  let socketDir = "";
  beforeAll(async () => {
    py = await preparePython();
    socketDir = await mkdtemp("/tmp/flotilla-py-");
  }, TOOLCHAIN_TIMEOUT);
  afterAll(async () => {
    if (socketDir) await rm(socketDir, { recursive: true, force: true });
  });

  it("import, encode what TypeScript decodes, and carry a gRPC call", async () => {
    const { stdout } = await runCommand(py.python, [join(interopDir, "python", "check_stubs.py"), socketDir], {
      env: py.env,
      timeoutMs: 120_000,
    });
    const report = JSON.parse(stdout) as {
      services: string[];
      request: unknown;
      wire: string;
      exitZeroPresent: boolean;
      exitUnknownPresent: boolean;
      listRegions: unknown;
    };
    expect([...report.services].sort()).toEqual(contractServiceNames());
    expect(report.request).toEqual(expectedRunJobRequestJson());
    expect(decodeRunJobRequest(report.wire)).toEqual(expectedRunJobRequestJson());
    expect(report.exitZeroPresent).toBe(true);
    expect(report.exitUnknownPresent).toBe(false);
    expect(report.listRegions).toEqual({
      regions: [{ id: "py-central-1", displayName: "Python Central", available: true }],
    });
  }, 180_000);

  it("stay out of git (generated in the test, never committed)", async () => {
    const tracked = await runCommand("git", ["ls-files", "packages/interop/python/gen"], { cwd: repoRoot });
    expect(tracked.stdout).toBe("");
  });
});
