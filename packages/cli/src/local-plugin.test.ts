import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { LOCAL_PLUGIN_ENV, localPluginMain, resolveLocalPlugin } from "./local-plugin.js";

const dir = mkdtempSync(join(tmpdir(), "flotilla-local-plugin-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An installed layout outside any repository: node_modules/@flotilla/{cli,plugin-local}. */
function installedLayout(name: string, manifest: object): URL {
  const modules = join(dir, name, "node_modules", "@flotilla");
  mkdirSync(join(modules, "cli", "dist"), { recursive: true });
  mkdirSync(join(modules, "plugin-local", "dist"), { recursive: true });
  writeFileSync(join(modules, "plugin-local", "package.json"), JSON.stringify(manifest));
  writeFileSync(join(modules, "plugin-local", "dist", "main.js"), "");
  return pathToFileURL(join(modules, "cli", "dist", "local-plugin.js"));
}

describe("resolveLocalPlugin", () => {
  it("finds the executable the installed @flotilla/plugin-local declares as its bin, wherever it was installed", () => {
    const from = installedLayout("app", {
      name: "@flotilla/plugin-local",
      exports: { ".": "./dist/index.js", "./package.json": "./package.json" },
      bin: { "flotilla-plugin-local": "./dist/main.js" },
    });
    expect(resolveLocalPlugin(from)).toBe(
      join(dir, "app", "node_modules", "@flotilla", "plugin-local", "dist", "main.js"),
    );
  });

  it("names the package file that declares no such bin", () => {
    const from = installedLayout("binless", { name: "@flotilla/plugin-local" });
    expect(() => resolveLocalPlugin(from)).toThrow(
      /plugin-local\/package\.json declares no "flotilla-plugin-local" bin/,
    );
  });
});

describe("localPluginMain", () => {
  it("finds the workspace's local plugin through its package's bin", () => {
    const path = localPluginMain({});
    expect(path).toMatch(/packages\/plugin-local\/bin\/flotilla-plugin-local\.js$/);
    expect(existsSync(path)).toBe(true);
  });

  it("inside the repository, says to build a missing plugin with the repository's script", () => {
    expect(() => localPluginMain({ [LOCAL_PLUGIN_ENV]: "/nowhere/main.js" }, () => "/src/flotilla")).toThrow(
      /not at \/nowhere\/main\.js; build it \(`node scripts\/bootstrap\.mjs build` in \/src\/flotilla\) or point FLOTILLA_LOCAL_PLUGIN/,
    );
  });

  it("outside the repository, says to install the plugin package, never to run a repository script", () => {
    for (const [env, locate] of [
      [{ [LOCAL_PLUGIN_ENV]: "/nowhere/main.js" }, () => undefined],
      [{}, () => undefined],
    ] as const) {
      let message = "";
      try {
        localPluginMain(env, () => undefined, locate);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/; install it .*`npm install @flotilla\/plugin-local`/);
      expect(message).not.toMatch(/scripts\/|repository|pnpm|npm run/);
    }
  });

  it("says which package it could not find", () => {
    expect(() =>
      localPluginMain(
        {},
        () => undefined,
        () => undefined,
      ),
    ).toThrow(/local provider plugin \(@flotilla\/plugin-local\) cannot be found from .*; install it beside the CLI/);
  });
});
