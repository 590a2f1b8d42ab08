import { describe, expect, it } from "vitest";
import { REDACTED_VALUE, redactSensitive, sensitiveKeys, sensitiveValues } from "./schema-sensitive.js";

const schema = {
  type: "object",
  properties: {
    region: { type: "string" },
    apiToken: { type: "string", writeOnly: true },
    auth: {
      type: "object",
      properties: { user: { type: "string" }, password: { type: "string", writeOnly: true } },
    },
    headers: { type: "array", items: { type: "object", properties: { value: { type: "string", writeOnly: true } } } },
    env: { type: "object", additionalProperties: { type: "string", writeOnly: true } },
    pin: { anyOf: [{ type: "integer", writeOnly: true }, { type: "string" }] },
  },
};

describe("sensitiveKeys", () => {
  it("lists every marked value in the key syntax of schema errors", () => {
    expect(sensitiveKeys(schema)).toEqual(["apiToken", "auth.password", "env.*", "headers[].value", "pin"]);
  });

  it("finds nothing in a schema without marks, or in no schema", () => {
    expect(sensitiveKeys({ type: "object", properties: { a: { type: "string", readOnly: true } } })).toEqual([]);
    expect(sensitiveKeys(undefined)).toEqual([]);
    expect(sensitiveKeys({ writeOnly: true })).toEqual(["(root)"]);
  });
});

describe("redactSensitive", () => {
  const config = {
    region: "eu-west-1",
    apiToken: "tok-123456",
    auth: { user: "ada", password: "hunter22" },
    headers: [{ name: "x", value: "v-secret" }],
    env: { A: "one", B: "two" },
    pin: 4321,
    extra: "not in the schema",
  };

  it("replaces exactly the marked values and keeps the rest", () => {
    expect(redactSensitive(config, schema)).toEqual({
      region: "eu-west-1",
      apiToken: REDACTED_VALUE,
      auth: { user: "ada", password: REDACTED_VALUE },
      headers: [{ name: "x", value: REDACTED_VALUE }],
      env: { A: REDACTED_VALUE, B: REDACTED_VALUE },
      pin: REDACTED_VALUE,
      extra: "not in the schema",
    });
  });

  it("does not change the value it was given", () => {
    const copy = structuredClone(config);
    redactSensitive(config, schema);
    expect(config).toEqual(copy);
  });

  it("collects the marked values as text, so free text can be masked", () => {
    expect(sensitiveValues(config, schema).sort()).toEqual([
      "4321",
      "hunter22",
      "one",
      "tok-123456",
      "two",
      "v-secret",
    ]);
  });
});
