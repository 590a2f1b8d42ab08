import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CreateError, createPluginProject, flotillaVersion, providerNameFor, templateDir } from "./create.js";

const made: string[] = [];
function workDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "create-flotilla-plugin-"));
  made.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const readJson = (path: string) => JSON.parse(readFileSync(path, "utf8")) as Record<string, Record<string, string>>;
const repoPackage = (folder: string) => readJson(join(templateDir, "..", "..", folder, "package.json"));

describe("createPluginProject", () => {
  it("writes every template file into the folder named after the package, placeholders filled", () => {
    const cwd = workDir();
    const created = createPluginProject({ packageName: "@acme/flotilla-plugin-my-cloud", cwd });
    expect(created.directory).toBe(join(cwd, "flotilla-plugin-my-cloud"));
    expect(created.provider).toBe("my-cloud");
    expect(created.files).toEqual([
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
    for (const file of created.files) {
      expect(readFileSync(join(created.directory, file), "utf8"), file).not.toMatch(/\{\{|\}\}/);
    }
    const manifest = readJson(join(created.directory, "package.json"));
    expect(manifest.name).toBe("@acme/flotilla-plugin-my-cloud");
    expect(manifest.dependencies?.["@flotilla/plugin-sdk"]).toBe(`^${flotillaVersion()}`);
    expect(manifest.devDependencies?.["@flotilla/cli"]).toBe(`^${flotillaVersion()}`);
    expect(readFileSync(join(created.directory, "src", "plugin.ts"), "utf8")).toContain('PROVIDER = "my-cloud"');
    expect(readFileSync(join(created.directory, "flotilla.yaml"), "utf8")).toContain(`default_provider: "my-cloud"\n`);
  });

  it("writes into an existing empty folder, and one that holds only .git", () => {
    const cwd = workDir();
    mkdirSync(join(cwd, "empty"));
    expect(createPluginProject({ packageName: "empty", cwd }).files).toContain("package.json");
    mkdirSync(join(cwd, "repo", ".git"), { recursive: true });
    expect(createPluginProject({ packageName: "repo", cwd }).files).toContain("package.json");
  });

  it("refuses a folder with something in it, naming what is there, and writes nothing", () => {
    const cwd = workDir();
    mkdirSync(join(cwd, "taken"));
    writeFileSync(join(cwd, "taken", "notes.txt"), "mine\n");
    expect(() => createPluginProject({ packageName: "taken", cwd })).toThrow(
      new CreateError(
        "taken is not empty (it has notes.txt); nothing was written. Choose another name, or empty the folder.",
      ),
    );
    expect(readdirSync(join(cwd, "taken"))).toEqual(["notes.txt"]);
    writeFileSync(join(cwd, "a-file"), "");
    expect(() => createPluginProject({ packageName: "a-file", cwd })).toThrow(/a-file exists and is not a folder/);
  });

  it.each([
    ["Capital", /name can no longer contain capital letters/],
    ["my cloud", /name can only contain URL-friendly characters/],
    ["../escape", /name can only contain URL-friendly characters/],
    ["", /name length must be greater than zero/],
  ])("refuses %j, which npm would not publish, with npm's reason", (packageName, reason) => {
    const cwd = workDir();
    expect(() => createPluginProject({ packageName, cwd })).toThrow(CreateError);
    expect(() => createPluginProject({ packageName, cwd })).toThrow(reason);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it("refuses a package name that gives no provider name, saying what one looks like", () => {
    expect(() => createPluginProject({ packageName: "123", cwd: workDir() })).toThrow(
      /cannot make a provider name from "123": a provider name starts with a letter/,
    );
  });
});

describe("providerNameFor", () => {
  it.each([
    ["my-cloud", "my-cloud"],
    ["@acme/my-cloud", "my-cloud"],
    ["flotilla-plugin-acme", "acme"],
    ["@acme/flotilla-plugin-my_cloud.v2", "my-cloud-v2"],
    ["-x-", "x"],
  ])("%s gives %s", (packageName, provider) => {
    expect(providerNameFor(packageName)).toBe(provider);
  });

  it.each(["123", "_", "flotilla-plugin-", `a${"b".repeat(63)}`])("%s gives none", (packageName) => {
    expect(providerNameFor(packageName)).toBeUndefined();
  });
});

describe("the template's versions", () => {
  it("are the Flotilla release's: this package is released with the SDK and the CLI it names", () => {
    expect(flotillaVersion()).toBe(repoPackage("plugin-sdk").version);
    expect(flotillaVersion()).toBe(repoPackage("cli").version);
  });

  it("take the SDK's peers at the SDK's ranges, and the repository's tools at its pinned versions", () => {
    const template = readJson(join(templateDir, "package.json"));
    const sdkPeers = repoPackage("plugin-sdk").peerDependencies ?? {};
    expect(Object.keys(sdkPeers).length).toBeGreaterThan(0);
    for (const [name, range] of Object.entries(sdkPeers)) expect(template.dependencies?.[name], name).toBe(range);
    const rootTools = readJson(join(templateDir, "..", "..", "..", "package.json")).devDependencies ?? {};
    for (const tool of ["typescript", "vitest", "@types/node"]) {
      expect(template.devDependencies?.[tool], tool).toBe(`^${rootTools[tool]}`);
    }
  });
});
