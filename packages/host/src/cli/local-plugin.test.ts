import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { LOCAL_PLUGIN_ENV, localPluginMain } from "./local-plugin.js";

describe("localPluginMain", () => {
  it("finds the workspace's built local plugin", () => {
    const path = localPluginMain({});
    expect(path).toMatch(/plugin-local\/dist\/main\.js$/);
    expect(existsSync(path)).toBe(true);
  });

  it("inside the repository, says to build a missing plugin with the repository's script", () => {
    expect(() => localPluginMain({ [LOCAL_PLUGIN_ENV]: "/nowhere/main.js" }, () => "/src/flotilla")).toThrow(
      /not at \/nowhere\/main\.js; build it \(`node scripts\/bootstrap\.mjs build` in \/src\/flotilla\) or point FLOTILLA_LOCAL_PLUGIN/,
    );
  });

  it("outside the repository, says to install the plugin package, never to run a repository script", () => {
    let message = "";
    try {
      localPluginMain({ [LOCAL_PLUGIN_ENV]: "/nowhere/main.js" }, () => undefined);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/not at \/nowhere\/main\.js; install it .*`npm install @flotilla\/plugin-local`/);
    expect(message).not.toMatch(/scripts\/|repository|pnpm|npm run/);
  });
});
