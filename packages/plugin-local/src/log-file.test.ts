import { appendFileSync, existsSync, readdirSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { LogStream } from "@flotilla/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { numbered, tempLogDir } from "./fixtures/log-files.js";
import { LogFile, type ReadLimits } from "./log-file.js";

const temp = tempLogDir();
afterAll(() => temp.remove());
let files = 0;
const newPath = () => temp.path(`log-${files++}.jsonl`);
const all: ReadLimits = { maxBytes: Number.MAX_SAFE_INTEGER, maxLines: Number.MAX_SAFE_INTEGER };
const at = new Date(1_700_000_000_000);
/** Descriptors this process holds open: what a leaked file handle shows up in. */
const openDescriptors = () => readdirSync("/proc/self/fd").length;
const size = (path: string) => statSync(path).size;

/** A log file at `path` holding `texts` as STDOUT lines, written out. */
function written(path: string, texts: string[]): LogFile {
  const file = LogFile.create(path);
  for (const text of texts) file.append(LogStream.STDOUT, text, at, false);
  file.flush();
  return file;
}

describe("LogFile", () => {
  it("reads back every line with its stream, text, time and continuation flag, across many read chunks", async () => {
    const file = LogFile.create(newPath());
    file.append(LogStream.STDERR, "first", at, true);
    const texts = numbered(30_000); // about 1.4 MB: many 64 KiB reads, with records cut at each chunk's end
    for (const text of texts) file.append(LogStream.STDOUT, text, at, false);
    const lines = await file.read(0, all);
    expect(lines[0]).toMatchObject({ stream: LogStream.STDERR, text: "first", time: at, continues: true });
    expect(lines.slice(1).map((l) => l.text)).toEqual(texts);
    expect(lines.slice(1).every((l) => l.stream === LogStream.STDOUT && !l.continues)).toBe(true);
  });

  it("counts lines not yet written out, and appends return true until the file is closed", async () => {
    const path = newPath();
    const file = LogFile.create(path);
    expect(file.append(LogStream.STDOUT, "a", at, false)).toBe(true);
    expect(file.append(LogStream.STDOUT, "b", at, false)).toBe(true);
    expect(file.lines).toBe(2);
    file.close();
    expect(file.lines).toBe(2);
    expect(file.append(LogStream.STDOUT, "after close", at, false)).toBe(false);
    expect(file.lines).toBe(2);
    expect((await file.read(0, all)).map((l) => l.text)).toEqual(["a", "b"]);
    expect((await LogFile.open(path)).lines).toBe(2);
  });

  it("stops at the batch limits: maxLines lines, or the records that fit in maxBytes (at least one)", async () => {
    const file = written(newPath(), numbered(5000));
    expect((await file.read(1234, { maxBytes: Number.MAX_SAFE_INTEGER, maxLines: 7 })).map((l) => l.text)).toEqual(
      numbered(7, 1234),
    );
    const sizes = (await file.read(100, { maxBytes: Number.MAX_SAFE_INTEGER, maxLines: 3 })).map((l) => l.bytes);
    const threeRecords = sizes.reduce((sum, bytes) => sum + bytes, 0);
    expect((await file.read(100, { maxBytes: threeRecords, maxLines: 100 })).map((l) => l.text)).toEqual(
      numbered(3, 100),
    );
    expect((await file.read(100, { maxBytes: threeRecords - 1, maxLines: 100 })).map((l) => l.text)).toEqual(
      numbered(2, 100),
    );
    // A record larger than the whole batch still comes, alone: a reader always moves forward.
    expect((await file.read(4999, { maxBytes: 1, maxLines: 100 })).map((l) => l.text)).toEqual(["line 4999"]);
    expect(await file.read(5000, all)).toEqual([]);
  });

  it("reads a record longer than its read buffer whole", async () => {
    const long = `"${"\\".repeat(100_000)}"`; // JSON-escaped to about 200 KB, past the 64 KiB buffer twice
    const file = written(newPath(), ["before", long, "after"]);
    expect((await file.read(0, all)).map((l) => l.text)).toEqual(["before", long, "after"]);
  });

  it("writes in batches: a line waits for 64 KiB of lines or a moment, never for the next line", async () => {
    const path = newPath();
    const file = written(path, ["x"]);
    const recordOfOneChar = size(path);
    const record = (chars: number) => recordOfOneChar - 1 + chars; // ASCII text, same stream and time
    // 60 records of 1000 characters and one that brings the batch to exactly 64 KiB.
    for (let i = 0; i < 60; i++) {
      file.append(LogStream.STDOUT, "y".repeat(1000), at, false);
      expect(size(path)).toBe(recordOfOneChar); // still pending
    }
    file.append(LogStream.STDOUT, "z".repeat(64 * 1024 - 60 * record(1000) - record(0)), at, false);
    expect(size(path)).toBe(recordOfOneChar + 64 * 1024);

    // A lone line is written out soon after, with nothing else happening.
    file.append(LogStream.STDOUT, "lone", at, false);
    expect(size(path)).toBe(recordOfOneChar + 64 * 1024);
    await expect.poll(() => size(path), { timeout: 10_000 }).toBe(recordOfOneChar + 64 * 1024 + record(4));
    file.close();
  });

  it("a spool file leaves nothing on disk, keeps its lines readable until disposed, then holds no descriptor", async () => {
    const before = openDescriptors();
    const path = newPath();
    const file = LogFile.create(path, { spool: true });
    expect(existsSync(path)).toBe(false);
    const texts = numbered(5000); // more than one read chunk
    for (const text of texts) file.append(LogStream.STDOUT, text, at, false);
    file.close(); // closing the writer keeps a spool file's bytes: a reader may still come
    expect((await file.read(0, all)).map((l) => l.text)).toEqual(texts);
    // Disposed while a read is under way: that read still gets every line, the descriptor is closed after it.
    const reading = file.read(0, all);
    file.dispose();
    expect((await reading).map((l) => l.text)).toEqual(texts);
    expect(await file.read(0, all)).toEqual([]);
    expect(openDescriptors()).toBe(before);
  });

  it("a spool file disposed with no read under way lets go of its descriptor at once; two reads under way both finish", async () => {
    const before = openDescriptors();
    const idle = LogFile.create(newPath(), { spool: true });
    idle.append(LogStream.STDOUT, "never read", at, false);
    idle.dispose();
    expect(openDescriptors()).toBe(before);

    const busy = LogFile.create(newPath(), { spool: true });
    const texts = numbered(5000); // more than one read chunk each
    for (const text of texts) busy.append(LogStream.STDOUT, text, at, false);
    const first = busy.read(0, all);
    const second = busy.read(2500, all);
    busy.dispose();
    expect((await first).map((l) => l.text)).toEqual(texts);
    expect((await second).map((l) => l.text)).toEqual(texts.slice(2500));
    expect(openDescriptors()).toBe(before);
  });

  it("refresh of a file written here counts its lines, those still waiting to be written included", async () => {
    const file = LogFile.create(newPath());
    file.append(LogStream.STDOUT, "pending", at, false);
    expect(await file.refresh()).toBe(1);
    file.close();
    expect(await file.refresh()).toBe(1);
  });

  it("a disposed file reads as empty and keeps no descriptor; reading and rescanning keep none either", async () => {
    const before = openDescriptors();
    const path = newPath();
    const file = written(path, numbered(10));
    file.dispose();
    expect(await file.read(0, all)).toEqual([]);
    const reader = await LogFile.open(path);
    for (let i = 0; i < 3; i++) {
      expect(await reader.read(i, { maxBytes: 1000, maxLines: 1 })).toHaveLength(1);
      expect(await reader.refresh()).toBe(10);
    }
    expect(openDescriptors()).toBe(before);
  });

  it("a file that stops taking lines (disk full) says why, and appends return false", async () => {
    const file = LogFile.create("/dev/full"); // every write fails with ENOSPC
    expect(file.append(LogStream.STDOUT, "lost", at, false)).toBe(true);
    file.flush();
    expect(file.failure?.message).toMatch(/ENOSPC/);
    expect(file.append(LogStream.STDOUT, "refused", at, false)).toBe(false);
    file.close();
  });

  describe("opened to read (a job record, or a log another process writes)", () => {
    it("a missing file is an empty log that fills in as its writer appends", async () => {
      const path = newPath();
      const reader = await LogFile.open(path);
      expect(reader.lines).toBe(0);
      expect(await reader.read(0, all)).toEqual([]);
      written(path, ["one", "two"]).close();
      expect(await reader.refresh()).toBe(2);
      expect((await reader.read(0, all)).map((l) => l.text)).toEqual(["one", "two"]);
    });

    it("counts a line still being written only once its newline is there, and reads no further than it counted", async () => {
      const path = newPath();
      const writer = written(path, ["first line"]);
      const firstRecord = size(path);
      const reader = await LogFile.open(path);
      expect(reader.lines).toBe(1);
      // A record cut one byte short of the first one's length: the byte where the first had its newline is
      // where this one's is still missing.
      const second = `{"s":1,"t":"second line","at":${at.getTime()}}\n`;
      appendFileSync(path, second.slice(0, firstRecord - 1));
      expect(await reader.refresh()).toBe(1);
      appendFileSync(path, second.slice(firstRecord - 1));
      writer.close();
      expect(await reader.refresh()).toBe(2);
      // Lines the writer added after the last scan are read only once counted, so cursors stay within the count.
      written(path, ["third line"]).close();
      expect((await reader.read(0, all)).map((l) => l.text)).toEqual(["first line", "second line"]);
      expect(await reader.refresh()).toBe(3);
      expect((await reader.read(2, all)).map((l) => l.text)).toEqual(["third line"]);
    });

    it("reads what is left of a file cut short after it was scanned, without waiting for the rest", async () => {
      const path = newPath();
      written(path, numbered(100)).close();
      const reader = await LogFile.open(path);
      const firstTen = (await reader.read(0, { maxBytes: Number.MAX_SAFE_INTEGER, maxLines: 10 })).reduce(
        (sum, l) => sum + l.bytes,
        0,
      );
      truncateSync(path, firstTen);
      expect((await reader.read(0, all)).map((l) => l.text)).toEqual(numbered(10));
    });

    it("turns a damaged record into a SYSTEM line saying so, keeping every other line's place", async () => {
      const path = newPath();
      const good = (text: string) => JSON.stringify({ s: LogStream.STDOUT, t: text, at: at.getTime() });
      const damaged = [
        "not json",
        JSON.stringify({ s: LogStream.STDOUT, t: 5, at: 0 }),
        JSON.stringify({ s: "stdout", t: "x", at: 0 }),
        JSON.stringify({ s: LogStream.STDOUT, t: "x" }),
      ];
      writeFileSync(path, `${[good("before"), ...damaged, good("after")].join("\n")}\n`);
      const lines = await (await LogFile.open(path)).read(0, all);
      expect(lines.map((l) => l.text)).toEqual([
        "before",
        ...damaged.map(() => "[flotilla] a damaged record of this job's log file was skipped"),
        "after",
      ]);
      expect(lines.slice(1, -1).every((l) => l.stream === LogStream.SYSTEM && !l.continues)).toBe(true);
    });
  });
});
