import { describe, expect, it } from "vitest";
import { LogForwarder } from "./log-forwarder.js";
import type { PluginLogRecord } from "./log-record.js";
import { StderrTail } from "./stderr-tail.js";

describe("LogForwarder", () => {
  it("forwards lines per source as records, masks secrets, and tails stderr only", () => {
    const records: PluginLogRecord[] = [];
    const tail = new StderrTail(5);
    const f = new LogForwarder("aws", (r) => records.push(r), tail, ["AKIA-SECRET"]);
    f.write("stderr", Buffer.from('{"@level":"error","@message":"bad key AKIA-SECRET","key":"AKIA-SECRET"}\nplain '));
    f.write("stdout", Buffer.from("out line\n"));
    f.write("stderr", Buffer.from("text\n"));
    f.write("stdio", Buffer.from("unterminated"));
    f.flush();
    expect(records.map((r) => [r.source, r.level, r.message])).toEqual([
      ["stderr", "error", "bad key [REDACTED]"],
      ["stdout", "info", "out line"],
      ["stderr", "info", "plain text"],
      ["stdio", "info", "unterminated"],
    ]);
    expect(records[0]?.fields).toEqual({ key: "[REDACTED]" });
    expect(tail.snapshot().join("\n")).not.toContain("AKIA-SECRET");
    expect(tail.snapshot()).toHaveLength(3);
  });

  it("forwards a character whose bytes a pipe delivered in two chunks whole", () => {
    const records: PluginLogRecord[] = [];
    const f = new LogForwarder("p", (r) => records.push(r), new StderrTail(), []);
    const message = Buffer.from("Größe: 5 €\n");
    const insideEuro = message.length - 2; // between the 2nd and 3rd of the euro sign's 3 bytes
    f.write("stderr", message.subarray(0, insideEuro));
    f.write("stderr", message.subarray(insideEuro));
    expect(records.map((r) => r.message)).toEqual(["Größe: 5 €"]);
  });

  it("survives a sink that throws", () => {
    const f = new LogForwarder(
      "p",
      () => {
        throw new Error("sink down");
      },
      new StderrTail(),
      [],
    );
    expect(() => f.write("stderr", Buffer.from("x\n"))).not.toThrow();
  });
});
