import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
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
      { key: "aws.credentials", reason: "must be an object, got number 1" },
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
    expect(checkAgainstSchema(1, draft7)).toEqual([{ key: "(root)", reason: "must be a string, got number 1" }]);
    expect(checkAgainstSchema(1, draft2020)).toEqual([{ key: "(root)", reason: "must be a string, got number 1" }]);
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
      problems: [{ key: "(root)", reason: "must be a string, got number 1" }],
    });
  });
});
