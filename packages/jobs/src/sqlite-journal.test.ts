import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { describeJournalContract } from "./fixtures/journal-contract.js";
import { SQLITE_JOURNAL_SCHEMA_VERSION, SqliteJournal } from "./sqlite-journal.js";

describeJournalContract("SqliteJournal", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fl-journal-"));
  const path = join(dir, "state", "journal.db");
  return {
    connect: async (clock) => SqliteJournal.open(path, { now: clock }),
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describe("SqliteJournal", () => {
  let dir: string;
  let journal: SqliteJournal;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "fl-journal-"));
    journal = SqliteJournal.open(join(dir, "state", "journal.db"));
  });
  afterEach(async () => {
    await journal.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps what jobs print to its owner: the file 0600 in a directory made 0700", () => {
    expect(statSync(journal.location).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "state")).mode & 0o777).toBe(0o700);
  });

  it("refuses a journal written by a newer schema, without touching it", async () => {
    const path = join(dir, "newer.db");
    const db = new DatabaseSync(path);
    db.exec(`PRAGMA user_version = ${SQLITE_JOURNAL_SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => SqliteJournal.open(path)).toThrow(
      `job journal ${path} has schema version ${SQLITE_JOURNAL_SCHEMA_VERSION + 1}, newer than this Flotilla knows (${SQLITE_JOURNAL_SCHEMA_VERSION})`,
    );
  });
});
