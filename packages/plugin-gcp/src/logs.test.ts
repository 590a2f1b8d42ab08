import { create } from "@bufbuild/protobuf";
import {
  JobLogsRequestSchema,
  type JobLogsResponse,
  JobState,
  JobStatusRequestSchema,
  LogStream,
  RunJobRequestSchema,
} from "@flotilla/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { type GcpHarness, startGcpHarness } from "./fixtures/harness.js";

let h: GcpHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const runRequest = () => create(RunJobRequestSchema, { spec: { name: "logs", image: "busybox" } });

async function readLogs(harness: GcpHarness, jobId: string, follow: boolean, cursor = "") {
  const lines: Array<{ text: string; stream: LogStream; cursor: string }> = [];
  const request = create(JobLogsRequestSchema, { handle: { provider: "gcp", jobId }, follow, cursor });
  for await (const page of harness.runner.jobLogs(request, harness.context) as AsyncIterable<JobLogsResponse>)
    for (const line of page.lines) lines.push({ text: line.text, stream: line.stream, cursor: line.cursor });
  return lines;
}

async function waitFinished(harness: GcpHarness, jobId: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const { status } = await harness.runner.jobStatus(
      create(JobStatusRequestSchema, { handle: { provider: "gcp", jobId } }),
      harness.context,
    );
    if (status && status.state !== JobState.PENDING && status.state !== JobState.RUNNING) return;
    await new Promise((r) => setTimeout(r, 15));
  }
  throw new Error("the job did not finish");
}

describe("JobLogs", () => {
  it("follows a running execution to its end, oldest first, with an explicit time window", async () => {
    h = await startGcpHarness();
    h.fake.run.setExecutionScript({
      runMs: 400,
      logLines: [
        { afterMs: 0, text: "starting" },
        { afterMs: 150, text: "oops", stream: "stderr" },
        { afterMs: 300, text: "done" },
      ],
    });
    const { handle } = await h.runner.runJob(runRequest(), h.context);
    const lines = await readLogs(h, handle?.jobId as string, true);
    expect(lines.map((l) => [l.text, l.stream])).toEqual([
      ["starting", LogStream.STDOUT],
      ["oops", LogStream.STDERR],
      ["done", LogStream.STDOUT],
    ]);
    const requests = h.fake.logging.listRequests;
    expect(requests.length).toBeGreaterThan(1);
    for (const request of requests) {
      expect(request.orderBy).toBe("timestamp asc");
      expect(request.resourceNames).toEqual(["projects/flotilla-test"]);
      expect(request.filter).toMatch(/labels\."run\.googleapis\.com\/execution_name"="[^"]+-run"/);
      expect(request.filter).toMatch(/timestamp>="[^"]+" AND timestamp<="[^"]+"/);
    }
  });

  it("resumes from any line's cursor with no gap and no repeat", async () => {
    h = await startGcpHarness();
    const texts = Array.from({ length: 7 }, (_, i) => `line ${i}`);
    h.fake.run.setExecutionScript({ runMs: 60, logLines: texts.map((text, i) => ({ afterMs: i, text })) });
    const jobId = (await h.runner.runJob(runRequest(), h.context)).handle?.jobId as string;
    await waitFinished(h, jobId);
    const all = await readLogs(h, jobId, false);
    expect(all.map((l) => l.text)).toEqual(texts);
    for (const k of [0, 3, 6]) {
      const rest = await readLogs(h, jobId, false, all[k]?.cursor);
      expect(rest.map((l) => l.text)).toEqual(texts.slice(k + 1));
    }
  });

  it("waits out the settle window, so a line that reaches Cloud Logging late keeps its place", async () => {
    h = await startGcpHarness({ logSettleMs: 400, logDrainGraceMs: 500 });
    h.fake.run.setExecutionScript({
      // Time for the reader to be polling before the first line is written.
      provisionMs: 1000,
      runMs: 300,
      logLines: [
        { afterMs: 0, text: "first" },
        { afterMs: 50, text: "late", lagMs: 250 },
        { afterMs: 100, text: "third" },
      ],
    });
    const { handle } = await h.runner.runJob(runRequest(), h.context);
    const lines = await readLogs(h, handle?.jobId as string, true);
    expect(lines.map((l) => l.text)).toEqual(["first", "late", "third"]);
  });

  it("keeps following when the read quota is exhausted, backing off instead of failing", async () => {
    h = await startGcpHarness();
    h.fake.logging.setReadQuotaPerMinute(3);
    h.fake.run.setExecutionScript({ runMs: 100, logLines: [{ afterMs: 0, text: "only line" }] });
    const { handle } = await h.runner.runJob(runRequest(), h.context);
    const controller = new AbortController();
    const request = create(JobLogsRequestSchema, { handle, follow: true });
    const texts: string[] = [];
    const context = { ...h.context, signal: controller.signal };
    for await (const page of h.runner.jobLogs(request, context) as AsyncIterable<JobLogsResponse>) {
      for (const line of page.lines) texts.push(line.text);
      if (texts.some((t) => t.includes("throttled"))) controller.abort();
    }
    expect(texts.find((t) => t.includes("throttled"))).toMatch(/warning: reading the log failed.*Quota exceeded/);
    expect(h.fake.logging.throttledReads).toBeGreaterThan(0);
  });

  it("refuses a cursor this plugin did not issue", async () => {
    h = await startGcpHarness();
    const jobId = (await h.runner.runJob(runRequest(), h.context)).handle?.jobId as string;
    await expect(readLogs(h, jobId, false, "not-a-cursor")).rejects.toThrow(/cursor/);
  });
});
