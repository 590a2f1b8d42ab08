import { describe, expect, it } from "vitest";
import { canonicalJson, diffConfig, maskedJson } from "./json-diff.js";

describe("diffConfig", () => {
  it("compares only the keys the desired config sets, ignoring key order", () => {
    expect(diffConfig({ a: 1, b: { x: 1, y: 2 }, c: 3 }, { b: { y: 2, x: 1 }, a: 1 })).toEqual([]);
  });

  it("reports changed, added and replacement keys as JSON Pointers", () => {
    expect(diffConfig({ a: 1, "x/y": 1 }, { a: 2, b: "new", "x/y": 2 }, { replaceOn: ["/b"] })).toEqual([
      { path: "/a", actualJson: "1", desiredJson: "2", requiresReplacement: false },
      { path: "/b", actualJson: "", desiredJson: '"new"', requiresReplacement: true },
      { path: "/x~1y", actualJson: "1", desiredJson: "2", requiresReplacement: false },
    ]);
  });

  it("masks sensitive values on both sides", () => {
    expect(diffConfig({ token: "old" }, { token: "new" }, { sensitive: ["/token"] })).toEqual([
      { path: "/token", actualJson: maskedJson, desiredJson: maskedJson, requiresReplacement: false },
    ]);
  });

  it("hashes stably", () => {
    expect(canonicalJson({ b: [2, { d: 1, c: undefined }], a: 1 })).toBe('{"a":1,"b":[2,{"d":1}]}');
  });

  it("orders keys by code unit, whatever the locale (hashes must not depend on LANG)", () => {
    // Lithuanian collation puts "y" right after "i"; en-US and code-unit order do not.
    const keys = ["ia", "ya", "ib", "Z", "a"];
    expect(["ya", "ib"].sort((a, b) => a.localeCompare(b, "lt"))).toEqual(["ya", "ib"]);
    const text = canonicalJson(Object.fromEntries(keys.map((k) => [k, 1])));
    expect(text).toBe('{"Z":1,"a":1,"ia":1,"ib":1,"ya":1}');
  });
});

describe("diffConfig, the details", () => {
  it('masks a sensitive value as the JSON string "***"', () => {
    expect(maskedJson).toBe('"***"');
  });

  it("ignores keys the desired config sets to undefined", () => {
    expect(diffConfig({}, { a: undefined })).toEqual([]);
    expect(diffConfig({ a: 1 }, { a: undefined })).toEqual([]);
  });

  it("compares null, nested nulls and arrays by value", () => {
    expect(
      diffConfig({ a: null, b: { c: null }, d: [1, { e: 2 }] }, { a: null, b: { c: null }, d: [1, { e: 2 }] }),
    ).toEqual([]);
    expect(diffConfig({ a: null }, { a: 0 })).toEqual([
      { path: "/a", actualJson: "null", desiredJson: "0", requiresReplacement: false },
    ]);
    expect(canonicalJson([null, { b: null, a: [] }])).toBe('[null,{"a":[],"b":null}]');
  });

  it("escapes ~ and / in JSON Pointers", () => {
    expect(diffConfig({}, { "a~b/c": 1 }).map((c) => c.path)).toEqual(["/a~0b~1c"]);
  });
});
