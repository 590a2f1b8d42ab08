import { describe, expect, it } from "vitest";
import { LineSplitter } from "./line-splitter.js";

/** A splitter with the given cap and what it delivered, as [line, continues] pairs. */
function recording(maxLineBytes?: number) {
  const delivered: [string, boolean][] = [];
  const splitter = new LineSplitter((line, continues) => delivered.push([line, continues]), maxLineBytes);
  const lines = () => delivered.map(([line]) => line);
  return { splitter, delivered, lines };
}

const bytes = (text: string) => Buffer.from(text, "utf8");

describe("LineSplitter", () => {
  it("emits whole lines across chunk boundaries, strips CRLF, keeps empty lines and flushes a last unterminated line once", () => {
    const { splitter, lines } = recording();
    splitter.push(bytes("hel"));
    splitter.push(bytes("lo\r\nwor"));
    splitter.push(bytes("ld\n\nlast"));
    expect(lines()).toEqual(["hello", "world", ""]);
    splitter.flush();
    splitter.flush();
    expect(lines()).toEqual(["hello", "world", "", "last"]);
  });

  it("joins a line that spans chunks and ends a line at \\r\\n as at \\n", () => {
    const { splitter, lines } = recording();
    splitter.push(bytes("a\r\nb"));
    splitter.push(bytes("c\nd"));
    expect(lines()).toEqual(["a", "bc"]);
    splitter.flush();
    expect(lines()).toEqual(["a", "bc", "d"]);
  });

  it("keeps a \\r that does not end a line, and one at the end of the stream", () => {
    const { splitter, lines } = recording();
    splitter.push(bytes("50%\r100%\nend\r"));
    splitter.flush();
    expect(lines()).toEqual(["50%\r100%", "end\r"]);
  });

  it("decodes a 3-byte character that arrives split across two chunks", () => {
    const euro = bytes("€"); // E2 82 AC
    const { splitter, lines } = recording();
    splitter.push(Buffer.concat([bytes("price: "), euro.subarray(0, 1)]));
    splitter.push(Buffer.concat([euro.subarray(1), bytes("5\n")]));
    splitter.push(euro.subarray(0, 2));
    splitter.push(euro.subarray(2));
    splitter.flush();
    expect(lines()).toEqual(["price: €5", "€"]);
  });

  it("gives the same lines wherever the stream is cut into two chunks", () => {
    const text = "ascii\r\nÄpfel und Größe\n日本語のログ\n😀 emoji\r\nno newline at the end €";
    const expected = ["ascii", "Äpfel und Größe", "日本語のログ", "😀 emoji", "no newline at the end €"];
    const whole = bytes(text);
    for (let at = 0; at <= whole.length; at++) {
      const { splitter, lines } = recording();
      splitter.push(whole.subarray(0, at));
      splitter.push(whole.subarray(at));
      splitter.flush();
      expect(lines(), `cut at byte ${at}`).toEqual(expected);
    }
  });

  it("delivers a line longer than the cap in pieces of at most the cap, marking every piece but the last", () => {
    const { splitter, delivered } = recording(4);
    splitter.push(bytes("abcdefghij"));
    expect(delivered).toEqual([
      ["abcd", true],
      ["efgh", true],
    ]);
    splitter.flush();
    expect(delivered.at(-1)).toEqual(["ij", false]);
  });

  it("cuts a line longer than the cap even when it arrives whole with its newline", () => {
    const { splitter, delivered } = recording(4);
    splitter.push(bytes("abcdefghij\nok\n"));
    expect(delivered).toEqual([
      ["abcd", true],
      ["efgh", true],
      ["ij", false],
      ["ok", false],
    ]);
  });

  it("counts the cap in UTF-8 bytes and cuts between characters, never inside one", () => {
    const { splitter, delivered } = recording(4);
    splitter.push(bytes("a€€😀\n"));
    expect(delivered).toEqual([
      ["a€", true], // 1 + 3 bytes
      ["€", true], // 3 bytes: the 4-byte 😀 does not fit after it
      ["😀", false],
    ]);
    for (const [line] of delivered) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(4);
  });

  it("delivers a line of exactly the cap ended by \\r\\n as one line, even when \\r and \\n arrive apart", () => {
    const { splitter, delivered } = recording(4);
    splitter.push(bytes("abcd\r"));
    splitter.push(bytes("\n"));
    splitter.flush();
    expect(delivered).toEqual([["abcd", false]]);
  });

  it("keeps no more than the cap at the end of the stream either", () => {
    const { splitter, delivered } = recording(4);
    splitter.push(bytes("abcd\r"));
    splitter.flush();
    expect(delivered).toEqual([
      ["abcd", true],
      ["\r", false],
    ]);
  });

  it("does not depend on the caller's buffer after push returns", () => {
    const { splitter, lines } = recording();
    const reused = bytes("ab");
    splitter.push(reused);
    reused.fill("x");
    splitter.push(bytes("\n"));
    expect(lines()).toEqual(["ab"]);
  });

  it("refuses a cap that cannot hold one UTF-8 character", () => {
    expect(() => new LineSplitter(() => {}, 3)).toThrow(/at least 4/);
    expect(() => new LineSplitter(() => {}, 4.5)).toThrow(RangeError);
  });
});
