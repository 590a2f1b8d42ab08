import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseConfig } from "./load-config.js";

const dir = mkdtempSync(join(tmpdir(), "flotilla-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problemsOf(yaml: string): readonly string[] {
  try {
    parseConfig(yaml, "test.yaml");
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error("expected the config to be rejected");
}

describe("flotilla.yaml validation", () => {
  it("accepts a complete file", () => {
    const config = parseConfig(
      `
version: 1
default_provider: aws
plugins:
  aws:
    command: [node, plugins/aws/dist/main.js]
    env: { AWS_REGION: eu-west-1 }
    inherit_env: [AWS_PROFILE]
    checksum: sha256:${"a".repeat(64)}
    start_timeout: 10s
    config: { region: eu-west-1 }
    credentials: [{ name: access_key_id, reference: "secret://env/AWS_ACCESS_KEY_ID" }]
exec_environments:
  ci: { kind: local }
`,
      "test.yaml",
    );
    expect(config.plugins?.aws?.command).toEqual(["node", "plugins/aws/dist/main.js"]);
    expect(config.exec_environments?.ci).toEqual({ kind: "local" });
  });

  it("refuses a credential that is not a secret:// reference, without echoing it", () => {
    const problems = problemsOf(
      'plugins:\n  aws:\n    command: [x]\n    credentials:\n      - { name: a, reference: "secret://env/A" }\n      - { name: b, reference: "AKIAPLAINVALUE" }\n      - { name: c, reference: "env://C" }\n',
    );
    expect(problems).toEqual([
      expect.stringMatching(
        /^plugins\.aws\.credentials\[1\]\.reference: expected a secret reference such as secret:\/\/env\/NAME/,
      ),
      expect.stringMatching(/^plugins\.aws\.credentials\[2\]\.reference: expected a secret reference/),
    ]);
    expect(problems.join("\n")).not.toContain("AKIAPLAINVALUE");
  });

  it("names the path of a bad key and what belongs there", () => {
    expect(problemsOf("plugins:\n  aws:\n    command: node main.js\n")).toEqual([
      'plugins.aws.command: must be an array of strings: the executable and its arguments, e.g. ["node", "plugins/aws/dist/main.js"], got a string of 12 characters',
    ]);
    expect(problemsOf("plugins:\n  aws:\n    command: [node, 3]\n")[0]).toMatch(
      /^plugins\.aws\.command\[1\]: must be a string, got a number$/,
    );
    expect(problemsOf("plugins:\n  aws:\n    args: []\n")).toEqual([
      'plugins.aws.command: is required: it must be an array of strings: the executable and its arguments, e.g. ["node", "plugins/aws/dist/main.js"]',
    ]);
    expect(problemsOf("plugins:\n  aws:\n    command: [x]\n    checksum: abc\n")[0]).toMatch(
      /^plugins\.aws\.checksum: must be the executable's SHA-256 as "sha256:"/,
    );
    expect(problemsOf("plugin:\n  aws: {}\n")[0]).toMatch(
      /^plugin: is not a known key; known keys are: version, default_provider, plugins/,
    );
    expect(problemsOf("plugins:\n  AWS:\n    command: [x]\n")[0]).toMatch(
      /^plugins\.AWS: is not a valid name; use lower case letters/,
    );
    expect(problemsOf("plugins:\n  a:\n    command: [x]\n    credentials: [{ name: d }]\n")[0]).toMatch(
      /^plugins\.a\.credentials\[0\]\.reference: is required/,
    );
  });

  it("lets plugins.local configure the built-in plugin without a command", () => {
    const config = parseConfig("plugins:\n  local:\n    config: { secrets_dir: /tmp/s }\n", "test.yaml");
    expect(config.plugins?.local?.config).toEqual({ secrets_dir: "/tmp/s" });
    expect(problemsOf("plugins:\n  local:\n    colour: red\n")[0]).toMatch(
      /^plugins\.local\.colour: is not a known key/,
    );
    expect(problemsOf("plugins:\n  other:\n    config: {}\n")[0]).toMatch(/^plugins\.other\.command: is required/);
  });

  it("requires the default provider to exist", () => {
    expect(problemsOf("default_provider: gcp\n")[0]).toMatch(/default_provider: "gcp" is not a plugin of this file/);
  });

  it("takes auto_mtls as a boolean and names the key of anything else", () => {
    expect(
      parseConfig("plugins:\n  py:\n    command: [x]\n    auto_mtls: false\n", "t.yaml").plugins?.py?.auto_mtls,
    ).toBe(false);
    // YAML 1.2 reads `no` as a string, not as false.
    expect(problemsOf("plugins:\n  py:\n    command: [x]\n    auto_mtls: no\n")).toEqual([
      "plugins.py.auto_mtls: must be true or false: whether host and plugin pin TLS certificates (go-plugin AutoMTLS); false for a plugin that does not do TLS, got a string of 2 characters",
    ]);
  });

  it("reports YAML syntax errors", () => {
    expect(problemsOf("plugins: [\n")[0]).toMatch(/^YAML syntax: /);
  });
});

describe("configs that are badly wrong", () => {
  it("lists the first 20 problems and counts the rest, in document order", () => {
    const keys = Array.from({ length: 5000 }, (_, i) => `    k${i}: 1\n`).join("");
    const error = (() => {
      try {
        parseConfig(`plugins:\n  aws:\n    command: [x]\n${keys}`, "big.yaml");
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error?.problems).toHaveLength(5000);
    const lines = error?.message.split("\n") ?? [];
    expect(lines).toHaveLength(1 + 20 + 1);
    expect(lines[1]).toMatch(/^ {2}- plugins\.aws\.k0: is not a known key/);
    expect(lines[20]).toMatch(/^ {2}- plugins\.aws\.k19: is not a known key/);
    expect(lines[21]).toBe("  - and 4980 more problems (fix these first)");
  });

  it("names a key given twice in one mapping", () => {
    expect(problemsOf("plugins:\n  aws:\n    command: [x]\n    command: [y]\n")).toEqual([
      "plugins.aws.command: the key is given twice; keep one",
    ]);
  });

  it("never shows a value, a secret in an env map included", () => {
    const problems = problemsOf(
      `plugins:\n  aws:\n    command: [x]\n    env: { AWS_SECRET_ACCESS_KEY: 98765432109876540, TOKEN: [${"s".repeat(5000)}] }\n`,
    );
    expect(problems).toEqual([
      "plugins.aws.env.AWS_SECRET_ACCESS_KEY: must be a string, got a number",
      "plugins.aws.env.TOKEN: must be a string, got an array",
    ]);
  });
});

describe("config lookup", () => {
  it("refuses a --config that is a directory, or larger than 1 MiB, naming the path", () => {
    const folder = join(dir, "a-folder");
    mkdirSync(folder, { recursive: true });
    expect(() => loadConfig(folder, dir)).toThrow(
      `${folder} is not a valid Flotilla config:\n  - is a directory, not a file`,
    );
    const big = join(dir, "big.yaml");
    writeFileSync(big, `# ${"x".repeat(1024 * 1024)}\n`);
    expect(() => loadConfig(big, dir)).toThrow(
      /big\.yaml is not a valid Flotilla config:\n {2}- is 1048579 bytes, more than the 1048576 bytes \(1 MiB\)/,
    );
  });

  it("uses --config, then ./flotilla.yaml, then the built-in default", () => {
    expect(loadConfig(undefined, dir)).toEqual({ config: {}, path: undefined });
    writeFileSync(join(dir, "flotilla.yaml"), "default_provider: local\n");
    expect(loadConfig(undefined, dir)).toEqual({
      config: { default_provider: "local" },
      path: join(dir, "flotilla.yaml"),
    });
    writeFileSync(join(dir, "other.yaml"), "version: 1\n");
    expect(loadConfig("other.yaml", dir).config).toEqual({ version: 1 });
    expect(() => loadConfig("missing.yaml", dir)).toThrow(
      /missing\.yaml is not a valid Flotilla config:\n {2}- the file does not exist/,
    );
  });

  it("resolves a relative plugin executable against the file's folder, not the working directory", () => {
    const configDir = join(dir, "project", "ops");
    const elsewhere = join(dir, "elsewhere");
    mkdirSync(configDir, { recursive: true });
    mkdirSync(elsewhere, { recursive: true });
    writeFileSync(
      join(configDir, "flotilla.yaml"),
      [
        "plugins:",
        "  relative: { command: [./plugin.sh, ./arg] }",
        "  nested: { command: [bin/plugin] }",
        "  up: { command: [../tools/plugin] }",
        "  on-path: { command: [flotilla-plugin-aws, ./arg] }",
        "  absolute: { command: [/opt/plugin] }",
      ].join("\n"),
    );
    const { plugins } = loadConfig("../project/ops/flotilla.yaml", elsewhere).config;
    expect(plugins?.relative?.command).toEqual([join(configDir, "plugin.sh"), "./arg"]);
    expect(plugins?.nested?.command).toEqual([join(configDir, "bin", "plugin")]);
    expect(plugins?.up?.command).toEqual([join(dir, "project", "tools", "plugin")]);
    expect(plugins?.["on-path"]?.command).toEqual(["flotilla-plugin-aws", "./arg"]);
    expect(plugins?.absolute?.command).toEqual(["/opt/plugin"]);
    // Found as ./flotilla.yaml too: the same absolute paths.
    expect(loadConfig(undefined, configDir).config.plugins?.relative?.command?.[0]).toBe(join(configDir, "plugin.sh"));
  });
});
