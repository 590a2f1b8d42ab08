/**
 * The local provider passes the conformance suite every plugin is held to (`flotilla plugin test`),
 * run against its built executable as a host would start it. Needs `tsc -b` first.
 */
import { fileURLToPath } from "node:url";
import { runConformance } from "@flotilla/plugin-sdk/testing";
import { describe, expect, it } from "vitest";

const mainJs = fileURLToPath(new URL("../dist/main.js", import.meta.url));

describe("the local provider against the conformance suite", () => {
  it("passes every check, the job checks included", async () => {
    const report = await runConformance(process.execPath, [mainJs], {
      job: { command: ["sh", "-c", "echo one; echo two; echo three"] },
    });
    expect(report.checks.filter((check) => check.status !== "passed")).toEqual([]);
    expect(report.passed).toBe(true);
    expect(report.checks.map((check) => check.name)).toContain("resumes the log from a cursor with no gap or repeat");
  });
});
