/**
 * Keeps the README honest: its flotilla.yaml example must load with the
 * CLI's config loader and its `config:` block must pass this plugin's own
 * config validation.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { readmeExample, runReadmeExample } from "@flotilla/test-support";
import { describe, expect, it } from "vitest";
import { parseGcpConfig } from "./config-schema.js";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const readmePath = join(packageDir, "README.md");
// The loader is not part of @flotilla/cli's public exports; its file is stable within the workspace.
const cliLoadConfig = join(
  dirname(createRequire(import.meta.url).resolve("@flotilla/cli/package.json")),
  "dist",
  "config",
  "load-config.js",
);

describe("README", () => {
  it("has a flotilla.yaml example the CLI loads and whose gcp config this plugin accepts", async () => {
    const readme = await readFile(readmePath, "utf8");
    const yaml = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(yaml).toBeDefined();
    const dir = await mkdtemp(join(tmpdir(), "gcp-readme-"));
    try {
      const path = join(dir, "flotilla.yaml");
      await writeFile(path, yaml as string);
      const { loadConfig } = (await import(cliLoadConfig)) as {
        loadConfig: (path: string) => { config: { plugins?: Record<string, { config?: unknown }> } };
      };
      const gcp = loadConfig(path).config.plugins?.gcp;
      expect(parseGcpConfig(JSON.stringify(gcp?.config))).toMatchObject({
        project: "my-project",
        region: "europe-west1",
        vpcConnector: "jobs-connector",
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ["run-service", "run.service"],
    ["run-job", "run.job"],
  ])(
    "has a %s example that prints what the README says (against the fake, the plugin as a subprocess)",
    async (name, type) => {
      const readme = await readFile(readmePath, "utf8");
      const printed = new RegExp(
        `<!-- example: ${name} [\\s\\S]*?\`\`\`\\n\\nprints\\n\\n\`\`\`text\\n([\\s\\S]*?)\`\`\``,
      ).exec(readme)?.[1];
      expect(printed).toBeDefined();
      expect(readmeExample(packageDir, name)).toContain(`type: "${type}"`);
      expect(await runReadmeExample(packageDir, name, packageDir)).toBe(printed);
    },
    60_000,
  );
});
