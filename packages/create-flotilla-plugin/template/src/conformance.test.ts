// The conformance suite every Flotilla plugin is held to (`flotilla plugin test`), run against the built
// plugin as a host starts it. `npm test` builds first.
import { fileURLToPath } from "node:url";
import { runConformance } from "@flotilla/plugin-sdk/testing";
import { expect, it } from "vitest";

const main = fileURLToPath(new URL("../dist/main.js", import.meta.url));

it("passes the conformance suite, the job checks included", async () => {
  // A tiny job that succeeds and prints a few lines: the suite runs it, follows it, resumes its log, ...
  const report = await runConformance(process.execPath, [main], { job: { command: ["one", "two", "three"] } });
  expect(report.checks.filter((check) => check.status !== "passed")).toEqual([]);
});
