import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { LOCAL_PLUGIN_ENV, localPluginMain } from "./local-plugin.js";

describe("localPluginMain", () => {
  it("finds the workspace's built local plugin", () => {
    const path = localPluginMain({});
    expect(path).toMatch(/plugin-local\/dist\/main\.js$/);
    expect(existsSync(path)).toBe(true);
  });

  it("explains how to fix a missing plugin", () => {
    expect(() => localPluginMain({ [LOCAL_PLUGIN_ENV]: "/nowhere/main.js" })).toThrow(
      /not at \/nowhere\/main\.js; build it .* or point FLOTILLA_LOCAL_PLUGIN/,
    );
  });
});
