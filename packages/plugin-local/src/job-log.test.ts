import { LogStream } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import { InvalidCursorError, JobLog } from "./job-log.js";

describe("JobLog", () => {
  it("gives each line a cursor and resumes after it", () => {
    const log = new JobLog();
    log.append(LogStream.STDOUT, "one");
    const second = log.append(LogStream.STDERR, "two");
    log.append(LogStream.STDOUT, "three");
    expect(log.read("").lines.map((l) => l.text)).toEqual(["one", "two", "three"]);
    expect(log.read(second?.cursor ?? "").lines.map((l) => l.text)).toEqual(["three"]);
    expect(log.read("3").lines).toEqual([]);
  });

  it("refuses a cursor that is not a line count or lies beyond the end", () => {
    const log = new JobLog();
    log.append(LogStream.STDOUT, "one");
    expect(() => log.read("abc")).toThrow(InvalidCursorError);
    expect(() => log.read("2")).toThrow(/only written 1 line/);
  });

  it("drops the oldest lines past its limit and tells a reader what it missed", () => {
    const log = new JobLog(2);
    for (const text of ["a", "b", "c", "d"]) log.append(LogStream.STDOUT, text);
    const { lines } = log.read("");
    expect(lines[0]?.stream).toBe(LogStream.SYSTEM);
    expect(lines[0]?.text).toMatch(/2 earlier line\(s\) were dropped/);
    expect(lines.slice(1).map((l) => l.text)).toEqual(["c", "d"]);
    expect(log.read(lines[0]?.cursor ?? "").lines.map((l) => l.text)).toEqual(["c", "d"]);
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

  it("without follow stops at the current end; an aborted follow returns", async () => {
    const log = new JobLog();
    log.append(LogStream.STDOUT, "only");
    const batches = [];
    for await (const batch of log.stream("", false)) batches.push(batch);
    expect(batches.flat().map((l) => l.text)).toEqual(["only"]);

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
