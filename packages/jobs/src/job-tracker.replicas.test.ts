/**
 * Several host replicas sharing one PostgreSQL journal: each job is followed by exactly one of them, and
 * each runs once, however the replicas race for them.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { JobSpecSchema } from "@flotilla/protocol";
import { type PostgresServer, startPostgres } from "@flotilla/test-support/postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalProviderFixture, shellSpec, startLocalProvider } from "./fixtures/local-provider.js";
import { JobTracker } from "./job-tracker.js";
import { PostgresJournal } from "./postgres-journal.js";

let server: PostgresServer;
let local: LocalProviderFixture;
beforeAll(async () => {
  [server, local] = await Promise.all([startPostgres(), startLocalProvider()]);
}, 600_000);
afterAll(async () => {
  await local?.stop();
  await server?.stop();
});

describe("replicas sharing a PostgreSQL journal", () => {
  it("follow each job left unfinished by a replica that died in exactly one of them, and run each once", async () => {
    const schema = await server.newSchema();
    const journals = await Promise.all([0, 1, 2].map(() => PostgresJournal.open(server.config(schema))));
    const runs = join(local.dir, "replica-runs");
    try {
      // A replica recorded these jobs and died before dispatching them; its leases ran out.
      const ids: string[] = [];
      for (let i = 0; i < 8; i++) {
        const spec = create(JobSpecSchema, {
          ...shellSpec(`echo job-${i} >> ${runs}; echo out-${i}; exit ${i}`),
          idempotencyKey: `replicated-${i}`,
        });
        const { job } = await (journals[0] as PostgresJournal).record({ provider: "local", spec }, "dead-replica", 1);
        ids.push(job.id);
      }
      const trackers = journals.map(
        (journal, r) =>
          new JobTracker({ journal, runners: local.runners(), owner: `replica-${r}`, runner: { pollIntervalMs: 50 } }),
      );
      const taken = await Promise.all(trackers.map((tracker) => tracker.resume()));
      const followed = taken.flat().map((job) => job.id);
      expect([...followed].sort()).toEqual([...ids].sort());
      expect(new Set(followed).size).toBe(ids.length);

      const ends = await Promise.all(taken.flat().map((job) => job.done));
      for (const end of ends) {
        const i = Number(end.job.idempotencyKey.split("-")[1]);
        expect(end.job).toMatchObject({ finished: true, exitCode: i, state: i === 0 ? "succeeded" : "failed" });
        expect((await (journals[1] as PostgresJournal).readLog(end.job.id, 0, 10)).map((l) => l.text)).toEqual([
          `out-${i}`,
        ]);
      }
      const started = readFileSync(runs, "utf8").trim().split("\n").sort();
      expect(started).toEqual(ids.map((_, i) => `job-${i}`).sort());
      await Promise.all(trackers.map((tracker) => tracker.close()));
    } finally {
      await Promise.all(journals.map((journal) => journal.close()));
      await server.dropSchema(schema);
    }
  });
});
