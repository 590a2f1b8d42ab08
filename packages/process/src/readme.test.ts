import { fileURLToPath } from "node:url";
import { runReadmeExample } from "@flotilla/test-support";
import { describe, expect, it } from "vitest";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

describe("README", () => {
  it("the lines example prints what the README says", async () => {
    expect(await runReadmeExample(packageDir, "lines", packageDir)).toBe('"price " …\n"€5"\n"no newli" …\n"ne"\n');
  });
});
