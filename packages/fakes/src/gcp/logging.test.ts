import type { Entry } from "@google-cloud/logging";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GrpcStatus } from "./api-error.js";
import { GcpFaults } from "./faults.js";
import { codeOf, fakeClients, jobBody, testParent, testProject } from "./fixtures/clients.js";
import { type FakeGcp, startFakeGcp } from "./server.js";

let fake: FakeGcp;
let clients: ReturnType<typeof fakeClients>;
beforeEach(async () => {
  fake = await startFakeGcp();
  clients = fakeClients(fake);
});
afterEach(async () => {
  await clients.close();
  await fake.close();
});

const jobResource = {
  type: "cloud_run_job",
  labels: { job_name: "j", location: "us-central1", project_id: testProject },
};
const stdout = `projects/${testProject}/logs/run.googleapis.com%2Fstdout`;
function writeLine(text: string, timestamp: number, execution = "j-a", extraLagMs?: number) {
  fake.logging.write({
    logName: stdout,
    resource: jobResource,
    labels: { "run.googleapis.com/execution_name": execution },
    textPayload: text,
    timestamp,
    ...(extraLagMs !== undefined ? { extraLagMs } : {}),
  });
}
const texts = (entries: Entry[]) => entries.map((e) => e.data as string);
const executionFilter = (execution: string, since: number) =>
  `resource.type="cloud_run_job" labels."run.googleapis.com/execution_name"="${execution}" timestamp>="${new Date(since).toISOString()}"`;

describe("the Cloud Logging fake: entries.list", () => {
  it("sees the 24 h window and newest-first order the Node client adds to a filter without a timestamp", async () => {
    const now = fake.clock.now();
    writeLine("two days old", now - 48 * 3600_000);
    writeLine("fresh", now - 1000);
    const [entries] = await clients.logging.getEntries({ filter: 'resource.type="cloud_run_job"' });
    expect(texts(entries)).toEqual(["fresh"]);
    const sent = fake.logging.listRequests.at(-1);
    expect(sent?.orderBy).toBe("timestamp desc");
    expect(sent?.filter).toMatch(/^resource\.type="cloud_run_job" AND timestamp >= "\d{4}-\d\d-\d\dT[\d:.]+Z"$/);
    const window = Date.parse(/timestamp >= "([^"]+)"/.exec(sent?.filter ?? "")?.[1] ?? "");
    expect(Math.abs(Date.now() - 24 * 3600_000 - window)).toBeLessThan(60_000);
  });

  it("filters to one execution, orders ascending and pages with tokens", async () => {
    const t = fake.clock.now() - 10_000;
    for (let i = 0; i < 5; i++) writeLine(`line ${i}`, t + i);
    writeLine("other execution", t + 2, "j-b");
    const seen: string[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const [entries, , response] = await clients.logging.getEntries({
        filter: executionFilter("j-a", t),
        orderBy: "timestamp asc",
        pageSize: 2,
        autoPaginate: false,
        ...(pageToken ? { pageToken } : {}),
      });
      seen.push(...texts(entries));
      pageToken = response?.nextPageToken || undefined;
      pages += 1;
    } while (pageToken);
    expect(seen).toEqual(["line 0", "line 1", "line 2", "line 3", "line 4"]);
    expect(pages).toBe(3);
  });

  it("refuses a page size above 1000 and an order other than by timestamp", async () => {
    const filter = executionFilter("j-a", 0);
    expect(await codeOf(clients.logging.getEntries({ filter, pageSize: 1001, autoPaginate: false }))).toBe(
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(await codeOf(clients.logging.getEntries({ filter, orderBy: "severity", autoPaginate: false }))).toBe(
      GrpcStatus.INVALID_ARGUMENT,
    );
  });

  it("delivers entries late: invisible until the lag has passed, and a reader resuming after its last timestamp misses a late one", async () => {
    fake.logging.setDeliveryLag(5000);
    const t = fake.clock.now();
    writeLine("first", t);
    writeLine("late", t + 10, "j-a", 10_000);
    writeLine("third", t + 20);
    const read = async (since: number) =>
      texts(
        (
          await clients.logging.getEntries({
            filter: executionFilter("j-a", since),
            orderBy: "timestamp asc",
            autoPaginate: false,
          })
        )[0],
      );
    expect(await read(t)).toEqual([]);
    fake.clock.advance(5020);
    expect(await read(t)).toEqual(["first", "third"]);
    fake.clock.advance(10_000);
    expect(await read(t + 21)).toEqual([]);
    expect(await read(t)).toEqual(["first", "late", "third"]);
  });

  it("answers an empty page with a token when asked, and the token resumes the search", async () => {
    const t = fake.clock.now() - 1000;
    writeLine("only", t);
    fake.logging.answerEmptyPages(1);
    const filter = executionFilter("j-a", t);
    const [first, , response] = await clients.logging.getEntries({
      filter,
      orderBy: "timestamp asc",
      autoPaginate: false,
    });
    expect(first).toEqual([]);
    expect(response?.nextPageToken).toBeTruthy();
    const [second] = await clients.logging.getEntries({
      filter,
      orderBy: "timestamp asc",
      autoPaginate: false,
      pageToken: response?.nextPageToken as string,
    });
    expect(texts(second)).toEqual(["only"]);
  });

  it("answers RESOURCE_EXHAUSTED past 60 entries.list calls a minute per project, which the client does not retry", async () => {
    const list = () => clients.logging.getEntries({ filter: executionFilter("j-a", 0), autoPaginate: false });
    for (let i = 0; i < 60; i++) await list();
    expect(await codeOf(list())).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    expect(fake.calls.count("ListLogEntries")).toBe(61);
    expect(fake.logging.throttledReads).toBe(1);
    fake.clock.advance(60_000);
    expect(await codeOf(list())).toBeUndefined();
  });

  it("is retried by the Logging client on UNAVAILABLE, unlike the Cloud Run client", async () => {
    fake.faults.inject("ListLogEntries", GcpFaults.unavailable);
    writeLine("after a retry", fake.clock.now() - 10);
    const [entries] = await clients.logging.getEntries({ filter: executionFilter("j-a", 0), autoPaginate: false });
    expect(texts(entries)).toEqual(["after a retry"]);
    expect(fake.calls.count("ListLogEntries")).toBe(2);
  });

  it("refuses a filter on a field it does not simulate, naming it", async () => {
    const refused = clients.logging.getEntries({ filter: 'jsonPayload.message="x"', autoPaginate: false });
    await expect(refused).rejects.toMatchObject({
      code: GrpcStatus.INVALID_ARGUMENT,
      message: expect.stringMatching(/jsonPayload\.message/),
    });
  });

  it("carries the lines a Cloud Run task writes, labelled with the execution, task index and attempt", async () => {
    fake.run.setExecutionScript({
      provisionMs: 0,
      runMs: 1000,
      logLines: ["start", { afterMs: 500, text: "oops", stream: "stderr" }],
    });
    const [operation] = await clients.jobs.createJob({
      parent: testParent,
      jobId: "talk",
      job: jobBody({ startExecutionToken: "a" }),
    });
    await operation.promise();
    fake.clock.advance(1000);
    const [entries] = await clients.logging.getEntries({
      filter: executionFilter("talk-a", 0),
      orderBy: "timestamp asc",
      autoPaginate: false,
    });
    expect(texts(entries)).toEqual(["start", "oops"]);
    expect(entries[1]?.metadata).toMatchObject({
      logName: `projects/${testProject}/logs/run.googleapis.com%2Fstderr`,
      resource: {
        type: "cloud_run_job",
        labels: { job_name: "talk", location: "us-central1", project_id: testProject },
      },
      labels: { "run.googleapis.com/task_index": "0", "run.googleapis.com/task_attempt": "0" },
    });
  });
});

describe("the Cloud Logging fake: live tailing", () => {
  it("streams entries that arrive after the session opened, and never receives the buffer window the Node client is given", async () => {
    writeLine("before", fake.clock.now() - 5000);
    const stream = clients.logging.tailEntries({
      filter: 'resource.type="cloud_run_job"',
      bufferWindow: 0,
    });
    const received: string[] = [];
    // Aborting the stream ends it with CANCELLED on the client side.
    stream.on("error", () => {});
    stream.on("data", (response: { entries: Entry[] }) => received.push(...texts(response.entries)));
    await expect.poll(() => fake.logging.tailRequests.length).toBe(1);
    writeLine("during", fake.clock.now());
    fake.clock.advance(2000);
    await expect.poll(() => received).toEqual(["during"]);
    // tailEntries sends `bufferwindow` (lower case), a field the request does not have, so the server's
    // default buffer window (2 s) applies whatever the caller asked for.
    expect(fake.logging.tailRequests[0]?.bufferWindowMs).toBeUndefined();
    (stream as unknown as { abort(): void }).abort();
  });

  it("refuses an eleventh open tail session in a project with RESOURCE_EXHAUSTED", async () => {
    const streams = Array.from({ length: 10 }, () =>
      clients.logging.tailEntries({ filter: 'resource.type="cloud_run_job"' }),
    );
    for (const s of streams) s.on("error", () => {});
    await expect.poll(() => fake.logging.tailRequests.length).toBe(10);
    const eleventh = clients.logging.tailEntries({ filter: 'resource.type="cloud_run_job"' });
    const error = await new Promise<{ code?: number }>((resolve) => eleventh.on("error", resolve));
    expect(error.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    for (const s of streams) (s as unknown as { abort(): void }).abort();
  });
});
