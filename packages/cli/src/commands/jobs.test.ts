import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { SqliteJournal } from "@flotilla/jobs";
import { JobSpecSchema } from "@flotilla/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { capturedIo } from "../fixtures/streams.js";
import { jobsCommand } from "./jobs.js";

const dir = mkdtempSync(join(tmpdir(), "flotilla-jobs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// A journal of the test's own, never the one in the user's state directory.
const config = join(dir, "flotilla.yaml");
writeFileSync(config, "journal: journal.db\n");

// Status, logs and cancel of real jobs, across processes, are tested on the real binary in ../main.test.ts.
describe("jobsCommand", () => {
  it("rejects a job reference that is neither a handle nor a journal id, and a bad cursor, before opening anything", async () => {
    await expect(jobsCommand("status", "just-an-id", { config }, capturedIo())).rejects.toThrow(
      /is neither a handle PROVIDER:JOB_ID .* nor a journal id/,
    );
    await expect(jobsCommand("logs", "local:x", { config, cursor: "abc" }, capturedIo())).rejects.toThrow(
      '--cursor "abc" is not a line number',
    );
    await expect(jobsCommand("list", undefined, { config, limit: "0" }, capturedIo())).rejects.toThrow(
      '--limit "0" is not a number of jobs',
    );
  });

  it("reports a job the journal does not know with exit code 1, naming the journal", async () => {
    await expect(
      jobsCommand("status", "local:00000000-0000-4000-8000-00000000abcd", { config }, capturedIo()),
    ).rejects.toMatchObject({
      exitCode: 1,
      message: `job local:00000000-0000-4000-8000-00000000abcd is not in the job journal ${join(dir, "journal.db")}; it lists the jobs started through it (flotilla jobs list)`,
    });
  });

  it("lists the journal's jobs newest first, marking an unfinished one nobody follows", async () => {
    const listed = join(dir, "listed.yaml");
    writeFileSync(listed, "journal: listed.db\n");
    const journal = SqliteJournal.open(join(dir, "listed.db"));
    try {
      const done = await journal.record(
        { provider: "local", spec: create(JobSpecSchema, { name: "build", idempotencyKey: "a" }) },
        "me",
        60_000,
      );
      await journal.setHandle(done.job.id, "me", { provider: "local", jobId: "j-1" });
      await journal.finish(done.job.id, "me", { state: "failed", exitCode: 3, reason: "exited with code 3" });
      const left = await journal.record(
        { provider: "aws", spec: create(JobSpecSchema, { name: "deploy", idempotencyKey: "b" }) },
        "me",
        60_000,
      );
      await journal.setHandle(left.job.id, "me", { provider: "aws", jobId: "arn:task/2" });
      await journal.release(left.job.id, "me");
    } finally {
      await journal.close();
    }
    const io = capturedIo();
    expect(await jobsCommand("list", undefined, { config: listed }, io)).toBe(0);
    const lines = io.out().split("\n");
    expect(lines[0]).toMatch(/^HANDLE\s+STATE\s+EXIT\s+CREATED\s+NAME$/);
    expect(lines[1]).toMatch(/^aws:arn:task\/2\s+pending\*\s+-\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+deploy$/);
    expect(lines[2]).toMatch(/^local:j-1\s+failed\s+3\s+\S+ \S+\s+build$/);
    expect(lines[3]).toMatch(/^\* as last seen: nobody follows it now/);
  });

  it("lists an empty journal saying where jobs come from", async () => {
    const io = capturedIo();
    expect(await jobsCommand("list", undefined, { config }, io)).toBe(0);
    expect(io.out()).toBe("no jobs in the journal yet; `flotilla run` records each job it starts\n");
    const json = capturedIo();
    expect(await jobsCommand("list", undefined, { config, json: true }, json)).toBe(0);
    expect(JSON.parse(json.out())).toEqual([]);
  });
});
