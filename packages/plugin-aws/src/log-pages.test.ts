import { create } from "@bufbuild/protobuf";
import { getLogEventsMaxBytes } from "@flotilla/fakes";
import { type JobHandle, JobLogsRequestSchema, type JobLogsResponse, RunJobRequestSchema } from "@flotilla/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AwsHarness, collect, startAwsHarness } from "./fixtures/harness.js";

// GetLogEvents pages end at 1 MB as well as at 10,000 events: a log of long lines spans many short pages,
// and the reader must neither stop at a short page nor lose a line at a page boundary.
let h: AwsHarness;
beforeEach(async () => {
  h = await startAwsHarness();
});
afterEach(async () => {
  await h.close();
});

describe("JobLogs over pages cut at 1 MB", () => {
  it("delivers every long line once, in order, following and resuming from a cursor", async () => {
    const written = Array.from({ length: 2500 }, (_, i) => `${String(i).padStart(6, "0")} ${"x".repeat(993)}`);
    h.fake.ecs.setTaskScript(() => ({ runMs: 20, logLines: written }));
    const run = await h.runner.runJob(
      create(RunJobRequestSchema, { spec: { name: "wide", image: "busybox" } }),
      h.context,
    );
    const handle = run.handle as JobHandle;
    const read = (follow: boolean, cursor = "") =>
      collect(
        h.runner.jobLogs(
          create(JobLogsRequestSchema, { handle, follow, cursor }),
          h.context,
        ) as AsyncIterable<JobLogsResponse>,
      );
    const lines = (await read(true)).flatMap((page) => page.lines ?? []);
    expect(lines.map((line) => line.text)).toEqual(written);

    // Read once more to the end without following: 2.5 MB of events take three pages of at most 1 MB.
    const calls = h.fake.calls.count("GetLogEvents");
    expect((await read(false)).flatMap((page) => page.lines ?? [])).toHaveLength(written.length);
    expect(h.fake.calls.count("GetLogEvents") - calls).toBeGreaterThanOrEqual(
      Math.ceil((2500 * 1026) / getLogEventsMaxBytes),
    );

    const boundary = Math.floor(getLogEventsMaxBytes / 1026); // the first line of the second page
    const resumed = (await read(false, lines[boundary - 1]?.cursor)).flatMap((page) => page.lines ?? []);
    expect(resumed.map((line) => line.text)).toEqual(written.slice(boundary));
  });
});
