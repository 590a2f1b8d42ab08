/**
 * Issue 3 item 5, Go: buf generates Go stubs for the whole contract with
 * protoc-gen-go and protoc-gen-go-grpc from the Go module proxy, and a Go
 * module that imports them builds, vets, and encodes a message the
 * TypeScript side decodes.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { contractServiceNames, decodeRunJobRequest, expectedRunJobRequestJson } from "./expected-contract.js";
import { runCommand } from "./run-command.js";
import { type GoToolchain, goModuleDir, prepareGo, repoRoot } from "./toolchain.js";

const TOOLCHAIN_TIMEOUT = 25 * 60_000;

describe("Go stubs generated with buf", () => {
  let go: GoToolchain;
  beforeAll(async () => {
    go = await prepareGo();
  }, TOOLCHAIN_TIMEOUT);

  it("cover every service of the contract and pass go vet", async () => {
    const generated = await runCommand("go", ["list", "-f", "{{.ImportPath}}", "./gen/..."], {
      cwd: goModuleDir,
      env: go.env,
    });
    expect(generated.stdout.trim().split("\n").sort()).toEqual([
      "flotilla/interop/gen/flotilla/host/v1",
      "flotilla/interop/gen/flotilla/plugin/v1",
    ]);
    await runCommand("go", ["vet", "./..."], { cwd: goModuleDir, env: go.env, timeoutMs: 10 * 60_000 });
  }, 600_000);

  it("encode a RunJobRequest that the TypeScript code decodes to the same message", async () => {
    const report = JSON.parse((await runCommand(go.programs.stubcheck, [])).stdout) as {
      services: string[];
      request: unknown;
      wire: string;
      exitZeroPresent: boolean;
      exitUnknownPresent: boolean;
    };
    expect([...report.services].sort()).toEqual(contractServiceNames());
    expect(report.request).toEqual(expectedRunJobRequestJson());
    expect(decodeRunJobRequest(report.wire)).toEqual(expectedRunJobRequestJson());
    // JobStatus.exit_code is presence-tracked in Go too: 0 is not "unknown".
    expect(report.exitZeroPresent).toBe(true);
    expect(report.exitUnknownPresent).toBe(false);
  });

  it("stay out of git (generated in the test, never committed)", async () => {
    const tracked = await runCommand("git", ["ls-files", "packages/interop/go/gen"], { cwd: repoRoot });
    expect(tracked.stdout).toBe("");
    const ignored = await runCommand("git", ["check-ignore", "packages/interop/go/gen/flotilla/plugin/v1/job.pb.go"], {
      cwd: repoRoot,
    });
    expect(ignored.stdout.trim()).toBe("packages/interop/go/gen/flotilla/plugin/v1/job.pb.go");
  });
});
