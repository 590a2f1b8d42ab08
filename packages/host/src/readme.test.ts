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

describe("README", () => {
  it("the embedding example runs against the real local plugin and prints what the README says", async () => {
    // Written inside the package so that `import "@flotilla/host"` resolves to this package's dist.
    const file = `${packageDir}.readme-example-${process.pid}.mjs`;
    writeFileSync(file, readmeExample("embed"));
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [file], { cwd: repoRoot, timeout: 60_000 });
      expect(stdout).toContain(
        "services: flotilla.plugin.v1.IaCProviderRunnerService, flotilla.plugin.v1.RegionListerService",
      );
      expect(stdout).toContain("regions: local");
      expect(stdout).toContain("drift detector: not offered");
    } finally {
      rmSync(file, { force: true });
    }
  });
});
