import { describe, expect, it } from "vitest";
import { LogLineJoiner } from "./log-line-joiner.js";

describe("LogLineJoiner", () => {
  it("passes whole lines through and joins the pieces of a line, per stream, others coming between", () => {
    const joiner = new LogLineJoiner(100);
    expect(joiner.push("stdout", "plain", false)).toEqual([{ stream: "stdout", text: "plain" }]);
    expect(joiner.push("stdout", "ab", true)).toEqual([]);
    expect(joiner.push("stderr", "err", false)).toEqual([{ stream: "stderr", text: "err" }]);
    expect(joiner.push("stdout", "cd", true)).toEqual([]);
    expect(joiner.push("stdout", "e", false)).toEqual([{ stream: "stdout", text: "abcde" }]);
  });

  it("counts the bound in UTF-8 bytes and, past it, passes the line on in flagged pieces as they come", () => {
    const joiner = new LogLineJoiner(4);
    expect(joiner.push("stdout", "éé", true)).toEqual([]); // 4 bytes: at the bound, still held
    expect(joiner.push("stdout", "x", true)).toEqual([
      { stream: "stdout", text: "éé", continues: true },
      { stream: "stdout", text: "x", continues: true },
    ]);
    expect(joiner.push("stdout", "yyyyyy", true)).toEqual([{ stream: "stdout", text: "yyyyyy", continues: true }]);
    expect(joiner.push("stdout", "z", false)).toEqual([{ stream: "stdout", text: "z" }]);
    // The next line starts afresh.
    expect(joiner.push("stdout", "a", true)).toEqual([]);
    expect(joiner.push("stdout", "b", false)).toEqual([{ stream: "stdout", text: "ab" }]);
  });

  it("ends a line still open when the log ends", () => {
    const joiner = new LogLineJoiner(2);
    joiner.push("stdout", "ab", true);
    joiner.push("stderr", "long", true);
    expect(joiner.flush()).toEqual([
      { stream: "stdout", text: "ab" },
      { stream: "stderr", text: "" },
    ]);
    expect(joiner.flush()).toEqual([]);
  });
});
