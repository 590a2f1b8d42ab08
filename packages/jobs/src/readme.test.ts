import { fileURLToPath } from "node:url";
import { runReadmeExample } from "@flotilla/test-support";
import { describe, expect, it } from "vitest";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));

describe("README", () => {
  it("the embedding example runs a job through the journal and prints what the README says", async () => {
    const stdout = await runReadmeExample(packageDir, "embed", repoRoot);
    expect(stdout).toBe("resumed: 0\nstate: failed exit code: 3\nlog: hello | world\n");
  });
});
