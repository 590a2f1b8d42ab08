import { create } from "@bufbuild/protobuf";
import { JobSpecSchema } from "@flotilla/protocol";
import { type PostgresServer, startPostgres } from "@flotilla/test-support/postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeJournalContract } from "./fixtures/journal-contract.js";
import { POSTGRES_JOURNAL_SCHEMA_VERSION, PostgresJournal } from "./postgres-journal.js";

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
}, 600_000);
afterAll(() => server?.stop());

describeJournalContract("PostgresJournal", async () => {
  const schema = await server.newSchema();
  return {
    connect: (clock) => PostgresJournal.open(server.config(schema), { now: clock }),
    dispose: () => server.dropSchema(schema),
  };
});

describe("PostgresJournal", () => {
  it("creates its tables once when replicas start together, and refuses a journal written by a newer schema", async () => {
    const schema = await server.newSchema();
    try {
      const replicas = await Promise.all(Array.from({ length: 4 }, () => PostgresJournal.open(server.config(schema))));
      await Promise.all(replicas.map((replica) => replica.close()));
      const admin = await PostgresJournal.open(server.config(schema));
      await admin.close();
      const pg = await import("pg");
      const client = new pg.default.Client(server.config(schema));
      await client.connect();
      expect((await client.query("SELECT count(*)::int AS n FROM flotilla_journal_schema")).rows[0].n).toBe(1);
      await client.query("UPDATE flotilla_journal_schema SET version = $1", [POSTGRES_JOURNAL_SCHEMA_VERSION + 1]);
      await client.end();
      await expect(PostgresJournal.open(server.config(schema), { location: "the test journal" })).rejects.toThrow(
        `job journal the test journal has schema version ${POSTGRES_JOURNAL_SCHEMA_VERSION + 1}, newer than this Flotilla knows`,
      );
    } finally {
      await server.dropSchema(schema);
    }
  });

  it("gives each of many jobs to exactly one of the replicas claiming them all at once", async () => {
    const schema = await server.newSchema();
    const replicas = await Promise.all(Array.from({ length: 3 }, () => PostgresJournal.open(server.config(schema))));
    try {
      const ids: string[] = [];
      for (let i = 0; i < 30; i++) {
        const spec = create(JobSpecSchema, { command: ["true"], idempotencyKey: `key-${i}` });
        const { job } = await (replicas[0] as PostgresJournal).record({ provider: "local", spec }, "recorder", 1);
        ids.push(job.id);
      }
      // The recorder's leases (1 ms) have run out: every replica tries every job, concurrently.
      const claims = await Promise.all(
        replicas.map(async (replica, r) => {
          const won: string[] = [];
          await Promise.all(
            ids.map(async (id) => {
              if (await replica.claim(id, `replica-${r}`, 60_000)) won.push(id);
            }),
          );
          return won;
        }),
      );
      const all = claims.flat();
      expect(all.sort()).toEqual([...ids].sort());
      expect(new Set(all).size).toBe(ids.length);
    } finally {
      await Promise.all(replicas.map((replica) => replica.close()));
      await server.dropSchema(schema);
    }
  });
});
