import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { applySchemaDefaults, checkAgainstSchema, formatProblems, type SchemaNode } from "./schema-check.js";

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
  // First in the file on purpose: ajv is created once, by the first check in a test run, so this test is the
  // one that proves how it is configured — every error at once (allErrors), the failing data to describe
  // (verbose), unknown annotations accepted (strict off), two schemas sharing an $id (addUsedSchema off).
  it("is configured for every error, with its data, tolerating annotations and shared $ids", () => {
    const shared = (n: number): SchemaNode => ({
      $id: "https://plugins.example/shared.json",
      "x-annotation": n,
      type: "object",
      properties: { a: { type: "string" }, b: { type: "integer" } },
    });
    expect(checkAgainstSchema({ a: 1, b: "x" }, shared(1))).toEqual([
      { key: "a", reason: "must be a string, got a number" },
      { key: "b", reason: "must be an integer, got a string of 1 character" },
    ]);
    expect(checkAgainstSchema({ a: true }, shared(2))).toEqual([
      { key: "a", reason: "must be a string, got true or false" },
    ]);
  });

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
        "count: must be an integer, got a number",
        "tags[0]: a string of 2 characters does not match ^[a-z]+$",
        'mode: must be one of "a", "b", got a string of 1 character',
        "on: must be true or false, got a string of 3 characters",
        "nope: is not a known key; known keys are: name, count, tags, mode, on",
      ].join("; "),
    );
  });

  it("checks bounds and non-objects", () => {
    expect(checkAgainstSchema({ name: "x", count: 11, tags: [] }, schema).map((p) => p.reason)).toEqual([
      "must be <= 10",
      "must have at least 1 item(s)",
    ]);
    expect(checkAgainstSchema([], schema)).toEqual([{ key: "(root)", reason: "must be an object, got an array" }]);
  });

  it("never quotes a string's content (a misplaced secret must not reach an error)", () => {
    const message = formatProblems(checkAgainstSchema({ name: "x", mode: "hunter2-secret" }, schema));
    expect(message).toBe('mode: must be one of "a", "b", got a string of 14 characters');
    expect(message).not.toContain("hunter2");
  });

  it("never shows a number either: an account key pasted into an env map is a secret too", () => {
    const envMap: SchemaNode = { type: "object", additionalProperties: { type: "string" } };
    const message = formatProblems(checkAgainstSchema({ AWS_SECRET_ACCESS_KEY: 98765432109876540 }, envMap));
    expect(message).toBe("AWS_SECRET_ACCESS_KEY: must be a string, got a number");
    expect(formatProblems(checkAgainstSchema({ n: 98765 }, { properties: { n: { maximum: 10 } } }))).toBe(
      "n: must be <= 10",
    );
  });

  it("reports tens of thousands of unknown keys in document order, each once", () => {
    const closed: SchemaNode = {
      type: "object",
      additionalProperties: false,
      properties: { known: { type: "string" } },
    };
    const value = Object.fromEntries(Array.from({ length: 40_000 }, (_, i) => [`k${i}`, i]));
    const problems = checkAgainstSchema(value, closed);
    expect(problems).toHaveLength(40_000);
    expect(problems[0]).toEqual({ key: "k0", reason: "is not a known key; known keys are: known" });
    expect(problems.at(-1)?.key).toBe("k39999");
  });

  it("reports a value of the wrong type once, not again as an enum miss", () => {
    expect(checkAgainstSchema({ name: "x", mode: 3 }, schema).map((p) => p.reason)).toEqual([
      "must be a string, got a number",
    ]);
  });

  it("names nested keys by path, under the caller's prefix", () => {
    const nested: SchemaNode = {
      type: "object",
      properties: {
        credentials: {
          type: "object",
          required: ["roleArn"],
          properties: { roleArn: { type: "string" }, externalId: { type: "string", minLength: 2 } },
        },
        subnets: { type: "array", items: { type: "string", pattern: "^subnet-" } },
      },
    };
    expect(
      formatProblems(checkAgainstSchema({ credentials: { externalId: "a" }, subnets: ["subnet-1", "x"] }, nested)),
    ).toBe(
      "credentials.roleArn: is required; credentials.externalId: must have at least 2 characters; subnets[1]: a string of 1 character does not match ^subnet-",
    );
    expect(checkAgainstSchema({ credentials: 1 }, nested, "aws")).toEqual([
      { key: "aws.credentials", reason: "must be an object, got a number" },
    ]);
    expect(checkAgainstSchema(["x"], { type: "array", items: { type: "integer" } })).toEqual([
      { key: "[0]", reason: "must be an integer, got a string of 1 character" },
    ]);
  });

  it("never quotes a string's content in a pattern miss either", () => {
    const message = formatProblems(checkAgainstSchema({ name: "x", tags: ["AKIA-secret-key"] }, schema));
    expect(message).toBe("tags[0]: a string of 15 characters does not match ^[a-z]+$");
    expect(message).not.toContain("AKIA");
  });

  it("accepts schemas naming either draft, annotations it does not know, and a shared $id", () => {
    const draft7: SchemaNode = {
      $schema: "http://json-schema.org/draft-07/schema#",
      $id: "https://plugins.example/config.json",
      type: "string",
    };
    const draft2020: SchemaNode = {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      $id: "https://plugins.example/config.json",
      type: "string",
      "x-ui": 1,
    };
    expect(checkAgainstSchema(1, draft7)).toEqual([{ key: "(root)", reason: "must be a string, got a number" }]);
    expect(checkAgainstSchema(1, draft2020)).toEqual([{ key: "(root)", reason: "must be a string, got a number" }]);
    // The second call reuses the compiled validator and gives the same answer.
    expect(checkAgainstSchema(1, draft7)).toEqual(checkAgainstSchema(1, draft7));
  });

  it("does not load ajv when the SDK is imported, only on the first check", () => {
    const entry = fileURLToPath(new URL("../dist/index.js", import.meta.url));
    if (!existsSync(entry))
      throw new Error(`${entry} is missing: run \`tsc -b\` at the repository root before this test`);
    const script = `
      const { default: Module } = await import("node:module");
      const ajvLoaded = () => Object.keys(Module._cache).some((path) => path.includes("/ajv/"));
      const sdk = await import(${JSON.stringify(entry)});
      const atImport = ajvLoaded();
      const problems = sdk.checkAgainstSchema(1, { type: "string" });
      console.log(JSON.stringify({ atImport, afterCheck: ajvLoaded(), problems }));`;
    const output = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(JSON.parse(output)).toEqual({
      atImport: false,
      afterCheck: true,
      problems: [{ key: "(root)", reason: "must be a string, got a number" }],
    });
  });
});

describe("checkAgainstSchema: which problem is reported, and in what order", () => {
  const reasons = (value: unknown, schema: SchemaNode) => checkAgainstSchema(value, schema).map((p) => p.reason);

  it("prefers the most basic problem with a value, whatever order the schema checks them in", () => {
    // type over minimum
    expect(reasons(3, { allOf: [{ minimum: 5 }, { type: "string" }] })).toEqual(["must be a string, got a number"]);
    // minLength over pattern
    expect(reasons("", { allOf: [{ pattern: "^a" }, { minLength: 1 }] })).toEqual(["must not be empty"]);
    // pattern over a keyword without its own message
    expect(reasons("ABCDEF", { maxLength: 3, pattern: "^[a-z]+$" })).toEqual([
      "a string of 6 characters does not match ^[a-z]+$",
    ]);
    // minimum and maximum over a keyword without its own message
    expect(reasons(3, { allOf: [{ multipleOf: 2 }, { minimum: 5 }] })).toEqual(["must be >= 5"]);
    expect(reasons(3, { allOf: [{ multipleOf: 2 }, { maximum: 1 }] })).toEqual(["must be <= 1"]);
    // an unknown key over what another part of the schema says about its value
    expect(
      reasons({ x: "a" }, { allOf: [{ additionalProperties: false }, { properties: { x: { minLength: 3 } } }] }),
    ).toEqual(["is not a known key; known keys are: "]);
    // a keyword without its own message over enum
    expect(reasons("b", { allOf: [{ enum: ["a"] }, { maxLength: 0 }] })).toEqual([
      "must NOT have more than 0 characters",
    ]);
  });

  it("of two problems of the same rank, keeps the first", () => {
    expect(reasons("abc", { allOf: [{ maxLength: 1 }, { maxLength: 2 }] })).toEqual([
      "must NOT have more than 1 characters",
    ]);
  });

  it("keeps the problems of different keys apart, even when their names run together", () => {
    const schema: SchemaNode = {
      type: "object",
      properties: { a: { type: "object", properties: { b: { type: "string" } } }, ab: { type: "string" } },
    };
    expect(checkAgainstSchema({ a: { b: 1 }, ab: 2 }, schema).map((p) => p.key)).toEqual(["a.b", "ab"]);
  });

  it("orders array items by index and a value's own problem before its members'", () => {
    expect(
      checkAgainstSchema(["a", 1], { allOf: [{ items: { type: "string" } }, { items: { minLength: 2 } }] }).map(
        (p) => p.key,
      ),
    ).toEqual(["[0]", "[1]"]);
    const nested: SchemaNode = {
      allOf: [
        { properties: { o: { properties: { x: { type: "string" } } } } },
        { properties: { o: { maxProperties: 0 } } },
      ],
    };
    expect(checkAgainstSchema({ o: { x: 1 } }, nested)).toEqual([
      { key: "o", reason: "must NOT have more than 0 properties" },
      { key: "o.x", reason: "must be a string, got a number" },
    ]);
    expect(
      checkAgainstSchema(
        { o: { x: 1 }, p: { y: 1 } },
        {
          allOf: [
            { properties: { p: { maxProperties: 0 } } },
            { properties: { o: { properties: { x: { type: "string" } } } } },
            { properties: { o: { maxProperties: 0 } } },
          ],
        },
      ).map((p) => p.key),
    ).toEqual(["o", "o.x", "p"]);
  });

  it("names keys that contain / or ~ as they are", () => {
    const schema: SchemaNode = {
      type: "object",
      properties: { "a/b": { type: "string" }, "c~d": { type: "string" } },
    };
    expect(checkAgainstSchema({ "a/b": 1, "c~d": 2 }, schema).map((p) => p.key)).toEqual(["a/b", "c~d"]);
  });
});

describe("checkAgainstSchema: the messages", () => {
  const reason = (value: unknown, schema: SchemaNode) => checkAgainstSchema(value, schema)[0]?.reason;

  it("names the expected type and describes what was found, never quoting a string", () => {
    expect(reason("x", { type: "array" })).toBe("must be an array, got a string of 1 character");
    expect(reason(null, { type: "number" })).toBe("must be a number, got null");
    expect(reason({}, { type: "integer" })).toBe("must be an integer, got an object");
    expect(reason([1], { type: "object" })).toBe("must be an object, got an array");
    expect(reason(undefined, { type: "string" })).toBe("must be a string, got nothing");
    expect(reason(1, { type: ["string", "null"] } as never)).toBe("must be string or null, got a number");
    expect(reason(false, { type: "string" })).toBe("must be a string, got true or false");
    expect(reason("", { type: "number" })).toBe("must be a number, got a string of 0 characters");
  });

  it("says what a string, a number or a list must be", () => {
    expect(reason("", { type: "string", minLength: 1 })).toBe("must not be empty");
    expect(reason("ab", { type: "string", minLength: 3 })).toBe("must have at least 3 characters");
    expect(reason("x", { type: "string", pattern: "^r-", description: "a region id" })).toBe(
      "a string of 1 character does not match ^r- (a region id)",
    );
    expect(reason(-1, { type: "integer", minimum: 0 })).toBe("must be >= 0");
    expect(reason(2.5, { type: "number", maximum: 2 })).toBe("must be <= 2");
    expect(reason([], { type: "array", minItems: 2 })).toBe("must have at least 2 item(s)");
    expect(reason(3, { enum: [1, "two", null] })).toBe('must be one of 1, "two", null, got a number');
  });

  it("lists the known keys for an unknown one, and the description of a missing one", () => {
    const schema: SchemaNode = {
      type: "object",
      additionalProperties: false,
      required: ["region"],
      properties: { region: { type: "string", description: "where to run" }, zone: { type: "string" } },
    };
    expect(checkAgainstSchema({ zone: "z", extra: 1 }, schema)).toEqual([
      { key: "region", reason: "is required: where to run" },
      { key: "extra", reason: "is not a known key; known keys are: region, zone" },
    ]);
  });

  it("treats members set to undefined as absent, at any depth, and keeps the others", () => {
    const schema: SchemaNode = {
      type: "object",
      additionalProperties: false,
      required: ["a"],
      properties: { a: { type: "object", additionalProperties: false, properties: { b: { type: "string" } } } },
    };
    expect(checkAgainstSchema({ a: { b: "x", c: undefined }, d: undefined }, schema)).toEqual([]);
    expect(checkAgainstSchema({ a: undefined }, schema)).toEqual([{ key: "a", reason: "is required" }]);
    expect(checkAgainstSchema({ a: { b: 1 } }, schema)).toEqual([
      { key: "a.b", reason: "must be a string, got a number" },
    ]);
    expect(checkAgainstSchema([{ a: undefined }], { type: "array", items: schema })).toEqual([
      { key: "[0].a", reason: "is required" },
    ]);
  });
});

describe("applySchemaDefaults", () => {
  const schema: SchemaNode = {
    type: "object",
    properties: {
      retries: { type: "integer", default: 3 },
      name: { type: "string" },
      nested: { type: "object", default: {}, properties: { on: { type: "boolean", default: false } } },
    },
  };

  it("fills in missing members at any depth and keeps the ones given", () => {
    expect(applySchemaDefaults({ name: "a" }, schema)).toEqual({ name: "a", retries: 3, nested: { on: false } });
    expect(applySchemaDefaults({ retries: 0, nested: { on: true } }, schema)).toEqual({
      retries: 0,
      nested: { on: true },
    });
  });

  it("returns a copy, and leaves the check of the same schema untouched", () => {
    const given = { name: "a", retries: undefined };
    expect(applySchemaDefaults(given, schema)).toEqual({ name: "a", retries: 3, nested: { on: false } });
    expect(given).toEqual({ name: "a", retries: undefined });
    expect(checkAgainstSchema({ retries: "x" }, schema)).toEqual([
      { key: "retries", reason: "must be an integer, got a string of 1 character" },
    ]);
  });
});
