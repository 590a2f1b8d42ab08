import { rmSync, statSync } from "node:fs";
import { LogStream } from "@flotilla/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { numbered, readBatches, tempLogDir } from "./fixtures/log-files.js";
import { DEFAULT_BATCH_LIMITS, InvalidCursorError, JobLog } from "./job-log.js";
import { LogFile } from "./log-file.js";

const temp = tempLogDir();
afterAll(() => temp.remove());
let files = 0;
const newFile = () => LogFile.create(temp.path(`log-${files++}.jsonl`));
const texts = (batches: { text: string }[][]) => batches.flat().map((l) => l.text);

describe("JobLog", () => {
  it("gives each line a cursor and resumes after it", async () => {
    const log = new JobLog();
    log.append(LogStream.STDOUT, "one");
    const second = log.append(LogStream.STDERR, "two");
    log.append(LogStream.STDOUT, "three");
    expect((await log.read("")).lines.map((l) => l.text)).toEqual(["one", "two", "three"]);
    expect((await log.read(second?.cursor ?? "")).lines.map((l) => l.text)).toEqual(["three"]);
    expect((await log.read("3")).lines).toEqual([]);
  });

  it("refuses a cursor that is not a line count or lies beyond the end", async () => {
    const log = new JobLog();
    log.append(LogStream.STDOUT, "one");
    await expect(log.read("abc")).rejects.toThrow(InvalidCursorError);
    for (const cursor of ["x1", "1x", "-1", "1.0"]) {
      await expect(log.read(cursor)).rejects.toMatchObject({
        name: "InvalidCursorError",
        message: `log cursor ${JSON.stringify(cursor)} is not valid: it is not a line count; pass a LogLine.cursor of this job, or "" to start at the beginning`,
      });
    }
    await expect(log.read("2")).rejects.toThrow(/only written 1 line/);
  });

  it("keeps at most maxBytes of text in memory, and tells a reader behind it exactly how many lines it missed", async () => {
    const log = new JobLog({ maxBytes: 12 });
    for (const text of ["aaaa", "bbbb", "cccc", "dddd", "eeee"]) log.append(LogStream.STDOUT, text);
    log.close();
    // 12 bytes hold the last three 4-byte lines; a reader after the first line missed one.
    const { lines, ended } = await log.read("1");
    expect(ended).toBe(false);
    expect(lines).toEqual([
      {
        stream: LogStream.SYSTEM,
        text: expect.stringMatching(/^\[flotilla\] 1 earlier line\(s\) were dropped: .*has no log file/),
        time: expect.any(Date),
        cursor: "2",
        continues: false,
      },
    ]);
    expect((await log.read("2")).lines.map((l) => l.text)).toEqual(["cccc", "dddd", "eeee"]);
  });

  it("bounds a batch from memory by lines and by bytes (text plus 40 bytes a line), and says ended once nothing follows", async () => {
    const log = new JobLog();
    for (const text of numbered(5)) log.append(LogStream.STDOUT, text); // 6 bytes each
    log.close();
    expect(await log.read("", { maxBytes: 1_000_000, maxLines: 2 })).toMatchObject({
      lines: [{ text: "line 0" }, { text: "line 1" }],
      ended: false,
    });
    expect((await log.read("1", { maxBytes: 2 * (6 + 40), maxLines: 100 })).lines.map((l) => l.text)).toEqual([
      "line 1",
      "line 2",
    ]);
    expect((await log.read("1", { maxBytes: 2 * (6 + 40) - 1, maxLines: 100 })).lines.map((l) => l.text)).toEqual([
      "line 1",
    ]);
    expect(await log.read("5")).toEqual({ lines: [], ended: true });
  });

  it("lines read back from the log file come within the batch's line limit and never say the log ended", async () => {
    const log = new JobLog({ maxLines: 2, file: newFile() });
    for (const text of numbered(10)) log.append(LogStream.STDOUT, text);
    log.close();
    expect(await log.read("3", { maxBytes: 1_000_000, maxLines: 4 })).toMatchObject({
      lines: numbered(4, 3).map((text, i) => ({ text, cursor: String(4 + i) })),
      ended: false,
    });
  });

  it("without a log file drops the oldest lines past its window and tells a reader what it missed", async () => {
    const log = new JobLog({ maxLines: 2 });
    for (const text of ["a", "b", "c", "d"]) log.append(LogStream.STDOUT, text);
    const { lines } = await log.read("");
    expect(lines[0]?.stream).toBe(LogStream.SYSTEM);
    expect(lines[0]?.text).toMatch(/2 earlier line\(s\) were dropped: .*has no log file/);
    expect((await log.read(lines[0]?.cursor ?? "")).lines.map((l) => l.text)).toEqual(["c", "d"]);
  });

  it("with a log file, a reader far behind a small memory window gets every line, in order, from disk", async () => {
    const log = new JobLog({ maxLines: 1000, file: newFile() });
    const written = numbered(200_000);
    for (const text of written) log.append(LogStream.STDOUT, text);
    log.close();
    const batches = await readBatches(log);
    expect(texts(batches)).toEqual(written);
    // Cursors count lines, from disk as from memory: the last line's is the line count.
    expect(batches.flat().map((l) => l.cursor)).toEqual(written.map((_, i) => String(i + 1)));
    expect(batches.flat().some((l) => l.stream === LogStream.SYSTEM)).toBe(false);
  });

  it("resumes from any cursor, in memory or on disk, losing and repeating nothing", async () => {
    const log = new JobLog({ maxLines: 100, maxBytes: 2048, file: newFile() });
    const written = numbered(5000);
    for (const text of written) log.append(LogStream.STDOUT, text);
    for (const cursor of ["1", "999", "1024", "1025", "2500", "4899", "4950", "5000"]) {
      const got = texts(await readBatches(log, cursor, false, { maxBytes: 4096, maxLines: 333 }));
      expect(got).toEqual(written.slice(Number(cursor)));
    }
  });

  it("bounds every batch by bytes, not by a count of lines: a burst of 1 KiB lines comes in ~64 KiB batches", async () => {
    const log = new JobLog({ file: newFile() });
    const line = "x".repeat(1024);
    for (let i = 0; i < 5000; i++) log.append(LogStream.STDOUT, line);
    log.close();
    const batches = await readBatches(log);
    expect(batches.flat()).toHaveLength(5000);
    expect(batches.length).toBeGreaterThan(1);
    for (const batch of batches) {
      const bytes = batch.reduce((sum, l) => sum + l.text.length + 40, 0);
      expect(bytes).toBeLessThanOrEqual(DEFAULT_BATCH_LIMITS.maxBytes);
    }
  });

  it("keeps the pieces of an over-long line flagged, in memory and on disk", async () => {
    const log = new JobLog({ maxLines: 1, file: newFile() });
    log.append(LogStream.STDOUT, "aaaa", new Date(), true);
    log.append(LogStream.STDERR, "between", new Date());
    log.append(LogStream.STDOUT, "bb", new Date(), false);
    const all = (await readBatches(log)).flat();
    expect(all.map((l) => [l.text, l.continues])).toEqual([
      ["aaaa", true],
      ["between", false],
      ["bb", false],
    ]);
  });

  it("when the disk fails, lines that left memory are reported as dropped, with the reason; the job's log goes on", async () => {
    // Every write to /dev/full fails with ENOSPC.
    const log = new JobLog({ maxLines: 2, file: LogFile.create("/dev/full") });
    for (const text of ["a", "b", "c", "d", "e"]) log.append(LogStream.STDOUT, text);
    const batches = await readBatches(log);
    expect(batches.flat()[0]?.text).toMatch(
      /3 earlier line\(s\) were dropped: the job's log file could not be written \(.*ENOSPC/,
    );
    expect(texts(batches).slice(1)).toEqual(["d", "e"]);
  });

  it("when the log file cannot be read, a reader is told so, with the reason", async () => {
    const path = temp.path("vanishing.jsonl");
    const log = new JobLog({ maxLines: 2, file: LogFile.create(path) });
    for (const text of ["a", "b", "c", "d", "e"]) log.append(LogStream.STDOUT, text);
    log.flush();
    rmSync(path);
    const { lines } = await log.read("");
    expect(lines[0]?.text).toMatch(
      /^\[flotilla\] 3 earlier line\(s\) were dropped: the job's log file could not be read \(.*ENOENT/,
    );
    expect((await log.read(lines[0]?.cursor ?? "")).lines.map((l) => l.text)).toEqual(["d", "e"]);
  });

  it("flush writes the pending lines to the log file at once (the exit hook's last write)", () => {
    const path = temp.path("flushed.jsonl");
    const log = new JobLog({ file: LogFile.create(path) });
    log.append(LogStream.STDOUT, "last words");
    expect(statSync(path).size).toBe(0);
    log.flush();
    expect(statSync(path).size).toBeGreaterThan("last words".length);
  });

  it("a recorded log reads back what another process wrote, batch by batch, from any cursor", async () => {
    const path = temp.path("recorded.jsonl");
    const writer = LogFile.create(path);
    const written = numbered(3000);
    for (const text of written) writer.append(LogStream.STDERR, text, new Date(7), false);
    writer.close();
    const log = JobLog.recorded(() => LogFile.open(path));
    expect(log.isClosed).toBe(true);
    const all = (await readBatches(log, "", false, { maxBytes: 1000, maxLines: 100 })).flat();
    expect(all.map((l) => l.text)).toEqual(written);
    expect(all[0]).toMatchObject({ stream: LogStream.STDERR, cursor: "1", time: new Date(7) });
    expect(
      texts(
        await readBatches(
          JobLog.recorded(() => LogFile.open(path)),
          "2990",
        ),
      ),
    ).toEqual(written.slice(2990));
    await expect(JobLog.recorded(() => LogFile.open(path)).read("3001")).rejects.toThrow(/only written 3000/);
    // The file is scanned on the first read, once, never for a status call that does not read the log.
    let opens = 0;
    const lazy = JobLog.recorded(() => {
      opens += 1;
      return LogFile.open(path);
    });
    expect(opens).toBe(0);
    await lazy.read("2999");
    await lazy.read("3000");
    expect(opens).toBe(1);
  });

  it("follows: yields lines as they are appended and ends when the log closes", async () => {
    const log = new JobLog();
    const seen: string[] = [];
    const reading = (async () => {
      for await (const batch of log.stream("", true)) seen.push(...batch.map((l) => l.text));
    })();
    log.append(LogStream.STDOUT, "first");
    await expect.poll(() => seen).toEqual(["first"]);
    log.append(LogStream.STDOUT, "second");
    log.close();
    await reading;
    expect(seen).toEqual(["first", "second"]);
    expect(log.append(LogStream.STDOUT, "late")).toBeUndefined();
  });

  it("a follower that reads slowly while the job floods still gets every line, in order", async () => {
    const log = new JobLog({ maxLines: 50, maxBytes: 1024, file: newFile() });
    const seen: string[] = [];
    const reading = (async () => {
      for await (const batch of log.stream("", true, undefined, { maxBytes: 512, maxLines: 64 })) {
        seen.push(...batch.map((l) => l.text));
        // Slower than the writer: yield to it between batches.
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const written = numbered(20_000);
    for (let i = 0; i < written.length; i += 500) {
      for (const text of written.slice(i, i + 500)) log.append(LogStream.STDOUT, text);
      await new Promise((resolve) => setImmediate(resolve));
    }
    log.close();
    await reading;
    expect(seen).toEqual(written);
  });

  it("without follow, stops at the end the log had when the stream started, even when lines come meanwhile", async () => {
    const log = new JobLog({ maxLines: 10, file: newFile() });
    for (const text of numbered(5)) log.append(LogStream.STDOUT, text);
    const stream = log.stream("", false, undefined, { maxBytes: 1_000_000, maxLines: 2 });
    const batches = [(await stream.next()).value as { text: string }[]];
    for (const text of numbered(100, 5)) log.append(LogStream.STDOUT, text); // the first five are now on disk only
    for await (const batch of stream) batches.push(batch);
    expect(batches.map((batch) => batch.map((l) => l.text))).toEqual([
      ["line 0", "line 1"],
      ["line 2", "line 3"],
      ["line 4"],
    ]);
  });

  it("a waiting reader is released by a new line, by the log closing or being disposed, or by its own abort", async () => {
    const log = new JobLog();
    log.append(LogStream.STDOUT, "one");
    await log.waitForMore(""); // a line is there already
    const aborted = new AbortController();
    const waitingForAbort = log.waitForMore("1", aborted.signal);
    const waitingForLine = log.waitForMore("1");
    let lineCame = false;
    void waitingForLine.then(() => {
      lineCame = true;
    });
    await new Promise((resolve) => setImmediate(resolve)); // both are waiting now
    aborted.abort();
    await waitingForAbort;
    // The other reader still waits, for the line.
    await new Promise((resolve) => setImmediate(resolve));
    expect(lineCame).toBe(false);
    log.append(LogStream.STDOUT, "two");
    await waitingForLine;

    const waitingForClose = log.waitForMore("2");
    log.close();
    await waitingForClose;
    await log.waitForMore("2"); // closed: nothing to wait for

    const disposed = new JobLog({ file: newFile() });
    const waitingForDispose = disposed.waitForMore("");
    disposed.dispose();
    await waitingForDispose;
    expect(disposed.isClosed).toBe(true);
  });

  it("a recorded log another process still writes is followed until its writer is done", async () => {
    const path = temp.path("written-elsewhere.jsonl");
    const writer = LogFile.create(path);
    writer.append(LogStream.STDOUT, "early", new Date(), false);
    writer.flush();
    let writing = true;
    const log = JobLog.recorded(() => LogFile.open(path), { stillWriting: () => writing, pollMs: 5 });
    expect(log.isClosed).toBe(false);
    const seen: string[] = [];
    const following = (async () => {
      for await (const batch of log.stream("", true)) seen.push(...batch.map((l) => l.text));
    })();
    await expect.poll(() => seen).toEqual(["early"]);
    writer.append(LogStream.STDOUT, "later", new Date(), false);
    writer.flush();
    await expect.poll(() => seen).toEqual(["early", "later"]);
    writer.append(LogStream.STDOUT, "last", new Date(), false);
    writer.close();
    writing = false;
    await following;
    expect(seen).toEqual(["early", "later", "last"]);
    expect(log.isClosed).toBe(true);
  });

  it("without follow stops at the current end; an aborted follow returns", async () => {
    const log = new JobLog();
    log.append(LogStream.STDOUT, "only");
    expect(texts(await readBatches(log))).toEqual(["only"]);

    const abort = new AbortController();
    const following = (async () => {
      let count = 0;
      for await (const batch of log.stream("1", true, abort.signal)) count += batch.length;
      return count;
    })();
    abort.abort();
    await expect(following).resolves.toBe(0);
  });
});
