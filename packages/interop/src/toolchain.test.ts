import { readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { runCommand } from "./run-command.js";
import { cacheDir, goGenerators, goModuleDir, interopDir, pythonGenDir, repoRoot } from "./toolchain.js";

// The toolchain's effects (stubs generated, programs built, venv created)
// are what go-stubs.test.ts and python-stubs.test.ts check; this file checks
// the pins and places they rely on.
describe("interop toolchain", () => {
  it("pins protoc-gen-go to the protobuf runtime version in go/go.mod", async () => {
    const goMod = await readFile(join(goModuleDir, "go.mod"), "utf8");
    const runtime = /google\.golang\.org\/protobuf (v\S+)/.exec(goMod)?.[1];
    expect(runtime).toBeDefined();
    expect(goGenerators.find((g) => g.name === "protoc-gen-go")?.version).toBe(runtime);
  });

  it("pins every Go generator and Python requirement to one exact version", async () => {
    for (const generator of goGenerators) expect(generator.version).toMatch(/^v\d+\.\d+\.\d+$/);
    const requirements = (await readFile(join(interopDir, "python", "requirements.txt"), "utf8"))
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith("#"));
    expect(requirements.length).toBeGreaterThan(0);
    for (const line of requirements) expect(line).toMatch(/^[A-Za-z0-9_.-]+==\d+(\.\d+)*$/);
  });

  it("keeps the cache and the generated code in git-ignored places", async () => {
    const inRepo = [join(goModuleDir, "gen", "x.go"), join(pythonGenDir, "x.py")];
    // FLOTILLA_INTEROP_CACHE may move the cache out of the repository.
    if (!process.env.FLOTILLA_INTEROP_CACHE) inRepo.push(join(cacheDir, "bin", "gohost"));
    const paths = inRepo.map((path) => relative(repoRoot, path));
    const { stdout } = await runCommand("git", ["check-ignore", ...paths], { cwd: repoRoot });
    expect(stdout.trim().split("\n")).toEqual(paths);
  });
});
