import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SDK_NAME_AND_VERSION, SDK_VERSION } from "./sdk-version.js";

describe("SDK_VERSION", () => {
  it("equals the version in package.json", () => {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      version: string;
      name: string;
    };
    expect(SDK_VERSION).toBe(pkg.version);
    expect(SDK_NAME_AND_VERSION).toBe(`${pkg.name} ${pkg.version}`);
  });
});
