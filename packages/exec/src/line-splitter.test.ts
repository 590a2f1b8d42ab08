import { describe, expect, it } from "vitest";
import { LineSplitter } from "./line-splitter.js";

describe("LineSplitter", () => {
  it("emits whole lines across chunk boundaries, strips CRLF, and flushes a last unterminated line", () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    splitter.push("hel");
    splitter.push("lo\r\nwor");
    splitter.push("ld\n\nlast");
    expect(lines).toEqual(["hello", "world", ""]);
    splitter.flush();
    splitter.flush();
    expect(lines).toEqual(["hello", "world", "", "last"]);
  });
});
