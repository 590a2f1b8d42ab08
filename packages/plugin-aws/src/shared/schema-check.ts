/**
 * A small checker for the subset of JSON Schema the cloud plugins use in
 * their published config and target schemas (object/array/string/integer/
 * number/boolean, properties, required, additionalProperties: false, enum,
 * pattern, minLength, minimum, maximum, minItems, items). Checking against the
 * very schema the plugin publishes keeps the two from drifting apart; the
 * host validates the same document with a full validator.
 *
 * Shared by every cloud plugin: candidate to move into @flotilla/plugin-sdk.
 */

/** The schema keywords {@link checkAgainstSchema} understands. */
export interface SchemaNode {
  type?: "object" | "array" | "string" | "integer" | "number" | "boolean";
  description?: string;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  additionalProperties?: boolean | SchemaNode;
  enum?: readonly unknown[];
  pattern?: string;
  minLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  items?: SchemaNode;
  default?: unknown;
  [keyword: string]: unknown;
}

/** One problem found: where (a dotted key path, e.g. "subnets[1]") and why. */
export interface SchemaProblem {
  /** The key, e.g. "maxAttempts" or "credentials.roleArn". */
  key: string;
  /** What is wrong and what is expected. */
  reason: string;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "an array";
  // A string's content is never quoted: a misplaced secret must not end up in an error or a log.
  if (typeof value === "string") return `a string of ${value.length} character${value.length === 1 ? "" : "s"}`;
  return typeof value === "object" ? "an object" : `${typeof value} ${String(value)}`;
}

/** Checks `value` against `schema`; returns every problem found (empty when valid). */
export function checkAgainstSchema(value: unknown, schema: SchemaNode, key = ""): SchemaProblem[] {
  const at = key || "(root)";
  const problems: SchemaProblem[] = [];
  const fail = (reason: string) => problems.push({ key: at, reason });
  switch (schema.type) {
    case "object": {
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        fail(`must be an object, got ${describe(value)}`);
        return problems;
      }
      const record = value as Record<string, unknown>;
      for (const name of schema.required ?? []) {
        if (record[name] === undefined)
          problems.push({
            key: key ? `${key}.${name}` : name,
            reason: `is required${schema.properties?.[name]?.description ? `: ${schema.properties[name].description}` : ""}`,
          });
      }
      for (const [name, child] of Object.entries(record)) {
        // An undefined member is an absent one (as JSON would have it).
        if (child === undefined) continue;
        const childKey = key ? `${key}.${name}` : name;
        const childSchema =
          schema.properties?.[name] ??
          (typeof schema.additionalProperties === "object" ? schema.additionalProperties : undefined);
        if (childSchema) problems.push(...checkAgainstSchema(child, childSchema, childKey));
        else if (schema.additionalProperties === false) {
          const known = Object.keys(schema.properties ?? {}).join(", ");
          problems.push({ key: childKey, reason: `is not a known key; known keys are: ${known}` });
        }
      }
      return problems;
    }
    case "array": {
      if (!Array.isArray(value)) {
        fail(`must be an array, got ${describe(value)}`);
        return problems;
      }
      if (schema.minItems !== undefined && value.length < schema.minItems)
        fail(`must have at least ${schema.minItems} item(s)`);
      if (schema.items)
        for (const [i, item] of value.entries()) {
          problems.push(...checkAgainstSchema(item, schema.items as SchemaNode, `${key}[${i}]`));
        }
      return problems;
    }
    case "string":
      if (typeof value !== "string") fail(`must be a string, got ${describe(value)}`);
      else if (schema.minLength !== undefined && value.length < schema.minLength)
        fail(schema.minLength === 1 ? "must not be empty" : `must have at least ${schema.minLength} characters`);
      else if (schema.pattern !== undefined && !new RegExp(schema.pattern, "u").test(value)) {
        fail(
          `${describe(value)} does not match ${schema.pattern}${schema.description ? ` (${schema.description})` : ""}`,
        );
      }
      break;
    case "integer":
    case "number":
      if (
        typeof value !== "number" ||
        !Number.isFinite(value) ||
        (schema.type === "integer" && !Number.isInteger(value))
      ) {
        fail(`must be ${schema.type === "integer" ? "an integer" : "a number"}, got ${describe(value)}`);
      } else if (schema.minimum !== undefined && value < schema.minimum)
        fail(`must be >= ${schema.minimum}, got ${value}`);
      else if (schema.maximum !== undefined && value > schema.maximum)
        fail(`must be <= ${schema.maximum}, got ${value}`);
      break;
    case "boolean":
      if (typeof value !== "boolean") fail(`must be true or false, got ${describe(value)}`);
      break;
  }
  // One problem per value: an enum miss is only worth reporting when the type was right.
  if (problems.length === 0 && schema.enum && !schema.enum.includes(value))
    fail(`must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(", ")}, got ${describe(value)}`);
  return problems;
}

/** Formats problems as one message: "key: reason; key: reason". */
export function formatProblems(problems: readonly SchemaProblem[]): string {
  return problems.map((p) => `${p.key}: ${p.reason}`).join("; ");
}
