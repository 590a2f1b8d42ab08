import { execFile } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));

/** The code block right after `<!-- example: NAME ... -->` in the README. */
function readmeExample(name: string): string {
  const readme = readFileSync(`${packageDir}README.md`, "utf8");
  const match = new RegExp(`<!-- example: ${name}[^>]*-->\\s*\`\`\`js\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!match?.[1]) throw new Error(`README.md has no js block after <!-- example: ${name} -->`);
  return match[1];
}

/** Runs the README's example `name` as a file inside this package (so `import "@flotilla/exec"` resolves to its dist). */
async function runExample(name: string): Promise<string> {
  const file = `${packageDir}.readme-example-${name}-${process.pid}.mjs`;
  writeFileSync(file, readmeExample(name));
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [file], { cwd: repoRoot, timeout: 60_000 });
    return stdout;
  } finally {
    rmSync(file, { force: true });
  }
}

describe("README", () => {
  it("the local example runs a job in a local environment and prints what the README says", async () => {
    expect(await runExample("local")).toBe(
      "environments: ci, local, provider-ephemeral\n[stdout] hello from the job\nexit code 3 (exited)\n",
    );
  });

  it("the provider example runs a job on the real local provider plugin through provider-ephemeral", async () => {
    // Exactly: the host's own log records go to stderr, never into the program's output.
    expect(await runExample("provider")).toBe("[stdout] hello from the plugin\nexit code 4 (exited)\n");
  });
});
