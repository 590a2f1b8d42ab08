import { describe, expect, it } from "vitest";
import { checkAgainstSchema, formatProblems, type SchemaNode } from "./schema-check.js";

const schema: SchemaNode = {
  type: "object",
  additionalProperties: false,
  required: ["name"],
  properties: {
    name: { type: "string", minLength: 1, description: "the name" },
    count: { type: "integer", minimum: 0, maximum: 10 },
    tags: { type: "array", minItems: 1, items: { type: "string", pattern: "^[a-z]+$" } },
    mode: { type: "string", enum: ["a", "b"] },
    on: { type: "boolean" },
  },
};

describe("checkAgainstSchema", () => {
  it("accepts a valid value and treats undefined members as absent", () => {
    expect(
      checkAgainstSchema({ name: "x", count: 3, tags: ["ok"], mode: "a", on: true, extra: undefined }, schema),
    ).toEqual([]);
  });

  it("reports every problem with its key path and reason", () => {
    const problems = checkAgainstSchema({ count: 1.5, tags: ["OK", "ok"], mode: "c", on: "yes", nope: 1 }, schema);
    expect(formatProblems(problems)).toBe(
      [
        "name: is required: the name",
        "count: must be an integer, got number 1.5",
        "tags[0]: a string of 2 characters does not match ^[a-z]+$",
        'mode: must be one of "a", "b", got a string of 1 character',
        "on: must be true or false, got a string of 3 characters",
        "nope: is not a known key; known keys are: name, count, tags, mode, on",
      ].join("; "),
    );
  });

  it("checks bounds and non-objects", () => {
    expect(checkAgainstSchema({ name: "x", count: 11, tags: [] }, schema).map((p) => p.reason)).toEqual([
      "must be <= 10, got 11",
      "must have at least 1 item(s)",
    ]);
    expect(checkAgainstSchema([], schema)).toEqual([{ key: "(root)", reason: "must be an object, got an array" }]);
  });

  it("never quotes a string's content (a misplaced secret must not reach an error)", () => {
    const message = formatProblems(checkAgainstSchema({ name: "x", mode: "hunter2-secret" }, schema));
    expect(message).toBe('mode: must be one of "a", "b", got a string of 14 characters');
    expect(message).not.toContain("hunter2");
  });

  it("reports a value of the wrong type once, not again as an enum miss", () => {
    expect(checkAgainstSchema({ name: "x", mode: 3 }, schema).map((p) => p.reason)).toEqual([
      "must be a string, got number 3",
    ]);
  });
});
