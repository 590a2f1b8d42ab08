import { fileURLToPath } from "node:url";
import { runReadmeExample } from "@flotilla/test-support";
import { describe, expect, it } from "vitest";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));

describe("README", () => {
  it("the embedding example runs against the real local plugin and prints what the README says", async () => {
    const stdout = await runReadmeExample(packageDir, "embed", repoRoot);
    expect(stdout).toContain(
      "services: flotilla.plugin.v1.IaCProviderRunnerService, flotilla.plugin.v1.RegionListerService",
    );
    expect(stdout).toContain("regions: local");
    expect(stdout).toContain("drift detector: not offered");
  });
});
