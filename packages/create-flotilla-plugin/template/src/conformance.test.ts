// The conformance suite every Flotilla plugin is held to (`flotilla plugin test`), run against the built
// plugin as a host starts it. `npm test` builds first.
import { fileURLToPath } from "node:url";
import { runConformance } from "@flotilla/plugin-sdk/testing";
import { expect, it } from "vitest";

const main = fileURLToPath(new URL("../dist/main.js", import.meta.url));

it("passes the conformance suite, the job checks included", async () => {
  // The jobs it runs are the ones the plugin names in its registry (`conformanceJobs` in src/plugin.ts).
  const report = await runConformance(process.execPath, [main]);
  expect(report.checks.filter((check) => check.status === "failed")).toEqual([]);
  // Skipped: only the checks of services this plugin does not serve (a resource driver, for one).
  for (const check of report.checks.filter((check) => check.status === "skipped"))
    expect(check.detail).toMatch(/does not advertise/);
});
