import { describe, expect, it } from "vitest";
import { parseConfig } from "./config/load-config.js";
import { LOCAL_PLUGIN_NODE_OPTIONS, localStateDir, pluginConfigFor, providerNames } from "./provider-plugins.js";

describe("pluginConfigFor", () => {
  const config = parseConfig(
    `
plugins:
  aws:
    command: [node, aws.js]
    args: [--verbose]
    env: { AWS_REGION: eu-west-1 }
    inherit_env: [AWS_PROFILE]
    checksum: sha256:${"b".repeat(64)}
    start_timeout: 5s
    config: { region: eu-west-1 }
`,
    "test.yaml",
  );

  it("maps a flotilla.yaml entry to a plugin config", () => {
    expect(pluginConfigFor("aws", config, { inheritEnv: ["TOKEN"] })).toEqual({
      name: "aws",
      command: "node",
      args: ["aws.js", "--verbose"],
      env: { AWS_REGION: "eu-west-1" },
      inheritEnv: ["AWS_PROFILE", "TOKEN"],
      sha256: "b".repeat(64),
      startTimeoutMs: 5000,
      config: { region: "eu-west-1" },
    });
  });

  it("refuses a start_timeout past the host's one-hour limit, naming the key and the limit", () => {
    const slow = parseConfig("plugins:\n  aws:\n    command: [x]\n    start_timeout: 600h\n", "t.yaml");
    expect(() => pluginConfigFor("aws", slow)).toThrow(
      'plugins.aws.start_timeout: "600h" is longer than 1h, the longest plugins.aws.start_timeout allowed',
    );
  });

  it("maps auto_mtls to the plugin config's autoMtls, leaving it unset (on) when absent", () => {
    const plain = parseConfig("plugins:\n  py:\n    command: [python3, plugin.py]\n    auto_mtls: false\n", "t.yaml");
    expect(pluginConfigFor("py", plain).autoMtls).toBe(false);
    expect(pluginConfigFor("aws", config).autoMtls).toBeUndefined();
  });

  it("runs the built-in local provider with this Node", () => {
    const local = pluginConfigFor("local", {});
    expect(local.command).toBe(process.execPath);
    expect(local.args).toEqual([
      ...LOCAL_PLUGIN_NODE_OPTIONS,
      expect.stringMatching(/plugin-local\/bin\/flotilla-plugin-local\.js$/),
    ]);
  });

  it("configures the built-in local provider from a plugins.local entry without a command", () => {
    const local = pluginConfigFor(
      "local",
      parseConfig("plugins:\n  local:\n    config: { secrets_dir: /s }\n", "t.yaml"),
    );
    expect(local.command).toBe(process.execPath);
    expect(local.args).toEqual([
      ...LOCAL_PLUGIN_NODE_OPTIONS,
      expect.stringMatching(/plugin-local\/bin\/flotilla-plugin-local\.js$/),
    ]);
    expect(local.config).toEqual({ state_dir: localStateDir(), secrets_dir: "/s" });
  });

  it("keeps the built-in local provider's job records in the XDG state directory", () => {
    expect(pluginConfigFor("local", {}).config).toEqual({ state_dir: localStateDir() });
    expect(localStateDir({ XDG_STATE_HOME: "/x" })).toBe("/x/flotilla/local-jobs");
    expect(localStateDir({ HOME: "/home/u" })).toBe("/home/u/.local/state/flotilla/local-jobs");
  });

  it("names the known providers for an unknown one", () => {
    expect(providerNames(config)).toEqual(["local", "aws"]);
    expect(() => pluginConfigFor("gcp", config)).toThrow(
      /provider "gcp" is not configured; known providers: local, aws/,
    );
  });
});
