import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCreate } from "./cli.js";

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function run(argv: string[], userAgent?: string) {
  const cwd = mkdtempSync(join(tmpdir(), "create-flotilla-plugin-cli-"));
  made.push(cwd);
  let stdout = "";
  let stderr = "";
  const code = runCreate(argv, {
    cwd,
    userAgent,
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
  });
  return { code, stdout, stderr, cwd };
}

describe("create-flotilla-plugin NAME", () => {
  it("writes the project and prints the next steps in npm's words", () => {
    const result = run(["my-cloud"], "npm/11.19.1 node/v24.21.0 linux x64 workspaces/false");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(readdirSync(join(result.cwd, "my-cloud"))).toContain("package.json");
    expect(result.stdout).toMatch(
      /^Created my-cloud in my-cloud\/: the Flotilla provider plugin "my-cloud" on @flotilla\/plugin-sdk \^\d+\.\d+\.\d+\./,
    );
    expect(result.stdout).toContain("\n  cd my-cloud\n  npm install\n  npm test ");
    expect(result.stdout).toContain("\n  npx flotilla run -- hello world ");
  });

  it("speaks pnpm's and yarn's words when they ran it", () => {
    const pnpm = run(["my-cloud"], "pnpm/10.34.9 npm/? node/v24.21.0 linux x64");
    expect(pnpm.stdout).toContain("\n  pnpm install\n  pnpm test ");
    expect(pnpm.stdout).toContain("\n  pnpm exec flotilla run -- hello world ");
    const yarn = run(["@acme/my-cloud"], "yarn/1.22.22 npm/? node/v24.21.0 linux x64");
    expect(yarn.stdout).toContain("\n  cd my-cloud\n  yarn\n  yarn test ");
  });

  it("refuses a bad name with exit code 1 and writes nothing", () => {
    const result = run(["My-Cloud"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^create-flotilla-plugin: "My-Cloud" is not a valid npm package name: /);
    expect(result.stdout).toBe("");
    expect(readdirSync(result.cwd)).toEqual([]);
  });

  it("prints the usage with exit code 2 for no name, two names or an unknown option; 0 for --help", () => {
    for (const argv of [[], ["a", "b"], ["--colour", "a"]]) {
      const result = run(argv);
      expect(result.code, argv.join(" ")).toBe(2);
      expect(result.stderr).toContain("Usage: npm create flotilla-plugin NAME");
    }
    expect(run([]).stderr).toMatch(/^create-flotilla-plugin: no NAME given\n/);
    const help = run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: npm create flotilla-plugin NAME\n/);
  });
});
