import { describe, expect, it } from "vitest";
import { LineSplitter } from "./line-splitter.js";

describe("LineSplitter", () => {
  it("emits complete lines across chunks and the rest on flush", () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l));
    s.push("a\r\nb");
    s.push(Buffer.from("c\nd"));
    expect(lines).toEqual(["a", "bc"]);
    s.flush();
    expect(lines).toEqual(["a", "bc", "d"]);
  });

  it("cuts a line that exceeds the cap", () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l), 4);
    s.push("abcdefghij");
    expect(lines).toEqual(["abcd", "efgh"]);
  });
});
