import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { sourceCheckoutRoot } from "./source-checkout.js";

const dir = mkdtempSync(join(tmpdir(), "flotilla-checkout-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("sourceCheckoutRoot", () => {
  it("finds the repository this test runs in", () => {
    const root = sourceCheckoutRoot() as string;
    expect(root).toBeDefined();
    expect(pathToFileURL(join(root, "packages/cli/src/")).href).toBe(new URL("./", import.meta.url).href);
  });

  it("is undefined for a package installed under node_modules", () => {
    const installed = join(dir, "app", "node_modules", "@flotilla", "cli", "dist");
    mkdirSync(installed, { recursive: true });
    writeFileSync(join(dir, "app", "package.json"), "{}\n");
    expect(sourceCheckoutRoot(pathToFileURL(join(installed, "source-checkout.js")))).toBeUndefined();
  });
});
