import { describe, expect, it } from "vitest";
import { nodeVersionProblem } from "./node-version.js";

describe("nodeVersionProblem", () => {
  it("accepts Node 24 and newer", () => {
    expect(nodeVersionProblem("24.0.0", "/usr/bin/node", undefined)).toBeUndefined();
    expect(nodeVersionProblem("25.1.0", "/usr/bin/node", "/src/flotilla")).toBeUndefined();
  });

  it("inside the repository, points at the repository's own Node", () => {
    expect(nodeVersionProblem("20.11.0", "/usr/bin/node", "/src/flotilla")).toMatch(
      /needs Node 24 or newer, but this is Node 20\.11\.0 \(\/usr\/bin\/node\)\.\n.*`npx flotilla \.\.\.` from the repository root \(\/src\/flotilla\) after `npm run setup`/,
    );
  });

  it("outside the repository, says to install a newer Node, never to run a repository script", () => {
    const message = nodeVersionProblem("20.11.0", "/usr/bin/node", undefined) as string;
    expect(message).toMatch(
      /needs Node 24 or newer, but this is Node 20\.11\.0 \(\/usr\/bin\/node\)\.\nInstall Node 24/,
    );
    expect(message).not.toMatch(/npx|npm run|pnpm|scripts\/|repository/);
  });
});
