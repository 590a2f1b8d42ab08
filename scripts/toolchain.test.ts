import { describe, expect, it } from "vitest";

describe("toolchain", () => {
  it("runs the tests under the project's Node 24, not the machine's Node", () => {
    expect(process.versions.node.startsWith("24.")).toBe(true);
    expect(process.execPath).toContain("node_modules");
  });
});
