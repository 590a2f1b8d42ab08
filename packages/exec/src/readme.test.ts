import { fileURLToPath } from "node:url";
import { runReadmeExample } from "@flotilla/test-support";
import { describe, expect, it } from "vitest";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
const runExample = (name: string) => runReadmeExample(packageDir, name, repoRoot);

describe("README", () => {
  it("the local example runs a job in a local environment and prints what the README says", async () => {
    expect(await runExample("local")).toBe(
      "environments: ci, local, provider-ephemeral\n[stdout] hello from the job\nexit code 3 (exited)\n",
    );
  });

  it("the provider example runs a job on the real local provider plugin through provider-ephemeral", async () => {
    // Exactly: the host's own log records go to stderr, never into the program's output.
    expect(await runExample("provider")).toBe("[stdout] hello from the plugin\nexit code 4 (exited)\n");
  });
});
