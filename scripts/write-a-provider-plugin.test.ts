/**
 * docs/write-a-provider-plugin.md followed as a new plugin author follows it — and so the proof that the
 * scaffold's output works outside the repository. The guide's commands run in an empty folder outside the
 * repository: the packages packed (`packTarballs`, what the guide's `npm run tarballs` runs), the project
 * created from the packed create-flotilla-plugin, installed from the tarballs with npm (no workspace
 * links), built and tested (its conformance test among them), then `flotilla plugin test` and `flotilla run`
 * on it. Every shell command the guide shows is run here or stands for one that is (the registry commands,
 * until Flotilla is on the registry); each file the guide shows is the file the scaffold wrote. One install,
 * preferring npm's cache as the pack-install test does.
 */
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { childEnv, outsideTemp, packTarballs, root } from "./published-packages.js";

const guide = readFileSync(join(root, "docs", "write-a-provider-plugin.md"), "utf8");
const shellBlocks = [...guide.matchAll(/```sh\n([\s\S]*?)```/g)].map((block) =>
  (block[1] as string).split("\n").filter((line) => line.trim() !== ""),
);
const [registrySteps = [], tarballSteps = [], runSteps = []] = shellBlocks;
/** The folder the guide packs into; the test packs into a temporary one instead. */
const guideTarballs = "/tmp/flotilla-tarballs";

const tarballs = outsideTemp("flotilla-guide-tarballs-");
const work = outsideTemp("flotilla-guide-");
const project = join(work, "my-cloud");
afterAll(() => {
  rmSync(tarballs, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

/** Runs one of the guide's commands as a shell would, in `cwd`, with the tarball folder swapped for the test's. */
function shell(command: string, cwd: string, timeoutMs = 120_000): SpawnSyncReturns<string> {
  return spawnSync("sh", ["-c", command.replaceAll(guideTarballs, tarballs)], {
    cwd,
    env: childEnv({
      npm_config_prefer_offline: "true",
      npm_config_audit: "false",
      npm_config_fund: "false",
      npm_config_update_notifier: "false",
      NO_COLOR: "1",
      // The job journal and job records of the guide's `flotilla run` go in the test's folder, not the user's home.
      XDG_STATE_HOME: join(work, "state"),
    }),
    encoding: "utf8",
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
}

function expectSuccess(result: SpawnSyncReturns<string>, what: string): void {
  expect(result.status, `${what} failed:\n${result.stdout}\n${result.stderr}`).toBe(0);
}

/** What the create step printed. */
let created: SpawnSyncReturns<string>;
/** The files of the project as the scaffold wrote it, before anything was installed or built. */
let writtenFiles: string[] = [];

beforeAll(() => {
  const [pack, create, cd, install] = tarballSteps;
  const names = (pack ?? "").split(" ").slice(5);
  packTarballs(tarballs, names);
  created = shell(create as string, work);
  expectSuccess(created, create as string);
  expect(cd).toBe("cd my-cloud");
  writtenFiles = (readdirSync(project, { recursive: true }) as string[])
    .filter((path) => !lstatSync(join(project, path)).isDirectory())
    .sort();
  expectSuccess(shell(install as string, project, 540_000), install as string);
}, 600_000);

describe("docs/write-a-provider-plugin.md, from an empty folder outside the repository", () => {
  it("shows the commands this test runs", () => {
    expect(shellBlocks).toHaveLength(3);
    expect(registrySteps).toEqual(["npm create flotilla-plugin my-cloud", "cd my-cloud", "npm install"]);
    const version = JSON.parse(readFileSync(join(root, "packages/create-flotilla-plugin/package.json"), "utf8"))
      .version as string;
    // The registry commands' stand-ins: the same scaffold and the same packages, from tarballs.
    expect(tarballSteps).toEqual([
      `npm run tarballs -- ${guideTarballs} @flotilla/cli create-flotilla-plugin`,
      `npm exec --yes --package ${guideTarballs}/create-flotilla-plugin-${version}.tgz -- create-flotilla-plugin my-cloud`,
      "cd my-cloud",
      `npm install --no-save ${guideTarballs}/flotilla-*.tgz`,
    ]);
    expect(runSteps.map((step) => step.split(" ").slice(0, 3).join(" "))).toEqual([
      "npm test",
      "npx flotilla plugin",
      "npx flotilla run",
      "npx flotilla run",
    ]);
  });

  it("creates the project with the files the guide shows, and says what to do next", () => {
    expect(created.stdout).toContain("Created my-cloud in my-cloud/");
    expect(created.stdout).toContain("\n  cd my-cloud\n  npm install\n  npm test ");
    expect(writtenFiles).toEqual([
      ".gitignore",
      "README.md",
      "flotilla.yaml",
      "package.json",
      "src/cloud.ts",
      "src/conformance.test.ts",
      "src/main.ts",
      "src/plugin.test.ts",
      "src/plugin.ts",
      "src/runner.ts",
      "tsconfig.json",
      "vitest.config.ts",
    ]);
    const blocks = [...guide.matchAll(/```\w+ file=(\S+)\n([\s\S]*?)```/g)];
    expect(blocks.map((block) => block[1])).toEqual([
      "package.json",
      "src/main.ts",
      "src/plugin.ts",
      "src/runner.ts",
      "src/conformance.test.ts",
      "flotilla.yaml",
    ]);
    for (const [, file, body] of blocks) {
      const written = readFileSync(join(project, file as string), "utf8");
      // package.json is compared as JSON: the formatter lays out an array in a package.json file otherwise.
      if (file === "package.json") expect(JSON.parse(body as string)).toEqual(JSON.parse(written));
      else expect(body, `${file} differs from the guide`).toBe(written);
    }
  });

  it("installs the packages from the tarballs, at versions the project's package.json accepts", () => {
    const sdk = join(project, "node_modules", "@flotilla", "plugin-sdk");
    expect(lstatSync(sdk).isSymbolicLink(), "a workspace link, not an install").toBe(false);
    expect(existsSync(join(sdk, "src")), "the tarball ships dist/ only").toBe(false);
    // npm ls fails on a dependency missing or outside its declared range, and on one installed but not declared.
    expectSuccess(shell("npm ls --all", project), "npm ls");
  });

  it("builds, and passes its own tests: the plugin's rule and the conformance suite", () => {
    const result = shell(runSteps[0] as string, project, 300_000);
    expectSuccess(result, "npm test");
    expect(result.stdout).toMatch(/src\/conformance\.test\.ts/);
    expect(result.stdout).toMatch(/Tests +2 passed \(2\)/);
  }, 300_000);

  it("passes `flotilla plugin test` with each check the guide lists", () => {
    const result = shell(runSteps[1] as string, project);
    expectSuccess(result, "flotilla plugin test");
    const report = /```text\n(flotilla plugin test:[\s\S]*?)```/.exec(guide)?.[1] ?? "";
    const checks = (text: string) =>
      text
        .split("\n")
        .filter((line) => /^ {2}[✓✗-] /.test(line))
        .map((line) => line.split(" — ")[0]);
    expect(checks(report).length).toBeGreaterThan(10);
    expect(checks(result.stdout)).toEqual(checks(report));
    expect(result.stdout.trim().split("\n").at(-1)).toBe(report.trim().split("\n").at(-1));
  }, 120_000);

  it("runs jobs under `flotilla run`, exiting with the job's exit code", () => {
    const ok = shell(runSteps[2] as string, project);
    expect(ok.stdout).toBe("hello\nworld\n");
    expect(ok.status).toBe(0);
    const failed = shell(runSteps[3] as string, project);
    expect(failed.stdout).toBe("hello\n");
    expect(failed.stderr).toMatch(/flotilla: job my-cloud:\S+ FAILED \(exit code 3\): exited with code 3/);
    expect(failed.status).toBe(3);
    expect(guide).toContain("flotilla: job my-cloud:fake-1/69e7967d-… FAILED (exit code 3): exited with code 3");
  }, 120_000);
});
