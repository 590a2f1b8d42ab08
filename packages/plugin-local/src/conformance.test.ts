/**
 * The local provider passes the conformance suite every plugin is held to (`flotilla plugin test`),
 * run against its built executable as a host would start it, with the jobs its registry names.
 * Needs `tsc -b` first.
 */
import { fileURLToPath } from "node:url";
import { runConformance } from "@flotilla/plugin-sdk/testing";
import { describe, expect, it } from "vitest";

const mainJs = fileURLToPath(new URL("../dist/main.js", import.meta.url));

describe("the local provider against the conformance suite", () => {
  it("passes every check that applies, the job checks included", async () => {
    const report = await runConformance(process.execPath, [mainJs]);
    // The local provider manages no resources; every other check applies.
    expect(report.checks.filter((check) => check.status !== "passed")).toEqual([
      {
        name: "refuses a replica count outside int32 with INVALID_ARGUMENT",
        status: "skipped",
        detail: "the plugin does not advertise ResourceDriver",
      },
    ]);
    expect(report.passed).toBe(true);
    expect(report.checks.find((check) => check.name === "runs a job and answers with its handle")?.detail).toMatch(
      /\(registry's job\)$/,
    );
  });
});
