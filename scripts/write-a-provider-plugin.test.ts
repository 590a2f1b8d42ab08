/**
 * Keeps docs/write-a-provider-plugin.md honest: every code block that names a
 * file is that file byte for byte, the example compiles with the project's
 * TypeScript, and the real `flotilla` CLI inspects it and runs jobs on it.
 */
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const example = join(root, "examples", "hello-provider");
const guide = readFileSync(join(root, "docs", "write-a-provider-plugin.md"), "utf8");
const cli = join(root, "packages", "cli", "dist", "main.js");
const pluginMain = join(example, "dist", "main.js");
const work = mkdtempSync(join(tmpdir(), "flotilla-guide-"));

function flotilla(args: string[], cwd = work): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [cli, ...args], { cwd, encoding: "utf8", timeout: 60_000 });
}

/** What the guide's "link them from packages/" step does. */
function linkFlotillaPackages(): void {
  const scope = join(example, "node_modules", "@flotilla");
  mkdirSync(scope, { recursive: true });
  const link = join(scope, "plugin-sdk");
  try {
    lstatSync(link);
  } catch {
    symlinkSync(join("..", "..", "..", "..", "packages", "plugin-sdk"), link);
  }
}

beforeAll(() => {
  linkFlotillaPackages();
  const tsc = spawnSync(join(root, "node_modules", ".bin", "tsc"), ["-p", example], { encoding: "utf8" });
  if (tsc.status !== 0) throw new Error(`the guide's example does not compile:\n${tsc.stdout}${tsc.stderr}`);
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("docs/write-a-provider-plugin.md", () => {
  it("shows each example file exactly as it is", () => {
    const blocks = [...guide.matchAll(/```\w+ file=(\S+)\n([\s\S]*?)```/g)];
    expect(blocks.map((b) => b[1])).toEqual([
      "examples/hello-provider/package.json",
      "examples/hello-provider/tsconfig.json",
      "examples/hello-provider/src/greetings.ts",
      "examples/hello-provider/src/main.ts",
    ]);
    for (const [, file, body] of blocks) {
      expect(body, `${file} differs from the guide`).toBe(readFileSync(join(root, file as string), "utf8"));
    }
  });

  it("builds a plugin that `flotilla plugin inspect` starts and describes", () => {
    const result = flotilla(["plugin", "inspect", "--json", "--", process.execPath, pluginMain]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      plugin: "hello",
      version: "1.0.0",
      services: ["flotilla.plugin.v1.IaCProviderRunnerService", "flotilla.plugin.v1.RegionListerService"],
    });
  });

  it("runs jobs through the CLI with the flotilla.yaml of the guide, exiting with the job's exit code", () => {
    writeFileSync(
      join(work, "flotilla.yaml"),
      `default_provider: hello\nplugins:\n  hello:\n    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(pluginMain)}]\n`,
    );
    const failed = flotilla(["run", "-e", "EXIT_CODE=4", "--", "world", "moon"]);
    expect(failed.stdout).toBe("hello, world\nhello, moon\n");
    expect(failed.status).toBe(4);
    expect(failed.stderr).toMatch(/job hello:\S+ FAILED \(exit code 4\)/);
    const ok = flotilla(["run", "--", "reader"]);
    expect(ok.stdout).toBe("hello, reader\n");
    expect(ok.status).toBe(0);
    const bad = flotilla(["run", "-e", "EXIT_CODE=x", "--", "world"]);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/spec\.env\.EXIT_CODE: must be an integer/);
    const regions = flotilla(["regions", "hello"]);
    expect(regions.stdout).toBe("hello-1\tHello One\n");
  }, 120_000);

  it("takes its typed config from flotilla.yaml, and a bad one is refused naming the key", () => {
    const command = `[${JSON.stringify(process.execPath)}, ${JSON.stringify(pluginMain)}]`;
    const dir = mkdtempSync(join(work, "config-"));
    writeFileSync(
      join(dir, "flotilla.yaml"),
      `default_provider: hello\nplugins:\n  hello:\n    command: ${command}\n    config: { greeting: hi }\n`,
    );
    const hi = flotilla(["run", "--", "world"], dir);
    expect(hi.stdout).toBe("hi, world\n");
    expect(hi.status).toBe(0);
    writeFileSync(
      join(dir, "flotilla.yaml"),
      `default_provider: hello\nplugins:\n  hello:\n    command: ${command}\n    config: { greting: hi }\n`,
    );
    const typo = flotilla(["run", "--", "world"], dir);
    expect(typo.status).not.toBe(0);
    expect(typo.stderr).toMatch(/greting: is not a known key; known keys are: greeting/);
    const inspect = flotilla(["plugin", "inspect", "--json", "--", process.execPath, pluginMain]);
    expect(JSON.parse(inspect.stdout).configSchema.properties.greeting).toMatchObject({ default: "hello" });
  }, 120_000);
});
