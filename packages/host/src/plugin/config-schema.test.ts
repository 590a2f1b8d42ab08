import { describe, expect, it } from "vitest";
import { ConfigSchemaError, checkConfigAgainstSchema } from "./config-schema.js";

const schema = JSON.stringify({
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  properties: {
    region: { type: "string" },
    retries: { type: "integer", minimum: 0 },
    token: { type: "string", minLength: 20 },
  },
  required: ["region"],
  additionalProperties: false,
});

describe("checkConfigAgainstSchema", () => {
  it("accepts a matching config, and anything when the schema is empty", () => {
    expect(() => checkConfigAgainstSchema(schema, { region: "eu-west-1", retries: 2 })).not.toThrow();
    expect(() => checkConfigAgainstSchema("", { whatever: 1 })).not.toThrow();
  });

  it("lists every bad key with its path and what was expected, without quoting values", () => {
    const err = (() => {
      try {
        checkConfigAgainstSchema(schema, { retries: -1, regoin: "x", token: "s3cr3t-value" });
      } catch (e) {
        return e;
      }
    })() as ConfigSchemaError;
    expect(err).toBeInstanceOf(ConfigSchemaError);
    expect(err.phase).toBe("configure");
    expect(err.message).toContain("  - region: is required");
    expect(err.message).toContain("  - regoin: is not a known key; known keys are: region, retries, token");
    expect(err.message).toContain("  - retries: must be >= 0");
    expect(err.message).toContain("  - token: must have at least 20 characters");
    expect(err.message).not.toContain("s3cr3t-value");
  });

  it("blames the registry when the published schema is broken", () => {
    expect(() => checkConfigAgainstSchema("{not json", {})).toThrow(/config_schema_json is not JSON/);
    expect(() => checkConfigAgainstSchema(JSON.stringify({ type: 12 }), {})).toThrow(/not a valid JSON Schema/);
  });
});
