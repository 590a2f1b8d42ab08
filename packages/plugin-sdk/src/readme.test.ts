/** Runs the README's examples as a user would (against the built package) and checks what they print. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runReadmeExample } from "@flotilla/test-support";
import { describe, expect, it } from "vitest";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

/** The text block the README says example `name` prints. */
function printed(name: string): string {
  const match = new RegExp(
    `<!-- example: ${name} [^>]*-->[\\s\\S]*?\`\`\`\\n\\nprints\\n\\n\`\`\`text\\n([\\s\\S]*?)\`\`\``,
  ).exec(readme);
  if (!match?.[1]) throw new Error(`README.md: no "prints" block after example ${name}`);
  return match[1];
}

describe("README", () => {
  it.each(["follow-log", "status-poller", "time"])("example %s prints what the README says", async (name) => {
    expect(await runReadmeExample(packageDir, name, packageDir)).toBe(printed(name));
  });
});
