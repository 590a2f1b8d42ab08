/**
 * Checks a value against a JSON Schema and says what is wrong the one way
 * Flotilla says it, host side and plugin side alike: a plugin checking its
 * config, target or resource config against the schema it publishes, the host
 * checking a config against a plugin's published schema before Configure, the
 * CLI checking flotilla.yaml, the execution environments checking their
 * section. Validation is ajv's; this file turns ajv's errors into messages a
 * user can act on: a key path ("subnets[1]", "plugins.aws.command", "(root)"),
 * what is wrong and what is expected — and never a string's content, because
 * a misplaced secret must not end up in an error or a log.
 *
 * A schema node may say what belongs there in an `x-expected` annotation
 * ("an array of strings: the executable and its arguments"); a wrong value is
 * then reported as "must be <x-expected>, got <what it is>".
 *
 * ajv takes ~90 ms to load, so it is required on the first check, not when
 * this package is imported: a plugin that never checks a schema, and every
 * plugin's handshake, does not pay for it.
 */
import { createRequire } from "node:module";
import type { Ajv2020, ErrorObject, ValidateFunction } from "ajv/dist/2020.js";

/** The schema keywords the messages are written for (others are checked too, with ajv's wording). */
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
  /** The key, e.g. "maxAttempts" or "credentials.roleArn"; "(root)" for the value itself. */
  key: string;
  /** What is wrong and what is expected. */
  reason: string;
}

/** An ajv instance, created on first use (see the file comment for why lazily), and its validators per schema. */
interface AjvUse {
  ajv?: Ajv2020;
  validators: WeakMap<SchemaNode, ValidateFunction>;
}

/** The one instance that checks. */
const checking: AjvUse = { validators: new WeakMap() };
/** The instance that fills in defaults; it checks nothing that `checking` did not already. */
const defaulting: AjvUse = { validators: new WeakMap() };

function validatorFor(schema: SchemaNode, use: AjvUse = checking): ValidateFunction {
  const cached = use.validators.get(schema);
  if (cached) return cached;
  if (!use.ajv) {
    const { Ajv2020: AjvClass } = createRequire(import.meta.url)(
      "ajv/dist/2020.js",
    ) as typeof import("ajv/dist/2020.js");
    use.ajv = new AjvClass({
      // Every problem at once, with the failing data and schema to describe them.
      allErrors: true,
      verbose: true,
      // Plugin schemas may carry annotations ajv does not know; they were always ignored.
      strict: false,
      // Several plugins (or one schema object recreated) may share an $id; compile each on its own.
      addUsedSchema: false,
      useDefaults: use === defaulting,
      // Neither the JSON Schema meta-schemas nor a check of the schema against them: adding the 2020-12
      // meta-schemas costs ~90 ms per instance, and compiling one as much again, at every plugin start and
      // every CLI command. Compiling the schema itself still rejects a malformed keyword ajv knows ("type must
      // be JSONType", "required value must be array", a bad pattern); an unknown keyword was ignored either
      // way (strict: false).
      meta: false,
      validateSchema: false,
    });
  }
  // The subset checked here means the same in draft-07 and 2020-12; a root $schema naming
  // another draft must not make ajv look for a meta-schema it was not given.
  const { $schema: _draft, ...withoutDraft } = schema;
  const validate = use.ajv.compile(withoutDraft);
  use.validators.set(schema, validate);
  return validate;
}

/**
 * A copy of `value` with the schema's `default`s filled in where a member is
 * missing (in `properties` and `items`, at any depth; ajv's `useDefaults`).
 * Call it on a value {@link checkAgainstSchema} accepted: the check runs on
 * what the user wrote, so the host's check of the same config and the
 * plugin's agree, and the defaults come after.
 */
export function applySchemaDefaults<T = unknown>(value: unknown, schema: SchemaNode): T {
  const copy = withoutUndefinedMembers(value);
  validatorFor(schema, defaulting)(copy);
  return copy as T;
}

/**
 * Checks `value` against `schema`; returns every problem found (empty when
 * valid). `key` prefixes every key path (for a value nested in a larger
 * document). Members set to undefined count as absent, as in JSON.
 */
export function checkAgainstSchema(value: unknown, schema: SchemaNode, key = ""): SchemaProblem[] {
  const data = withoutUndefinedMembers(value);
  const validate = validatorFor(schema);
  if (validate(data)) return [];
  // A bad key name is reported once, by the rule it broke (carrying `propertyName`), not again as "propertyNames".
  const located = (validate.errors ?? [])
    .filter((error) => error.keyword !== "propertyNames")
    .map((error) => locate(error, data));
  // One problem per value (a string that is too short is not also reported as a pattern miss;
  // a value of the wrong type is not also an enum miss), as a person fixing it would want.
  const best = new Map<string, Located>();
  for (const problem of located) {
    const id = problem.path.join("/");
    const seen = best.get(id);
    if (!seen || rank(problem.error) < rank(seen.error)) best.set(id, problem);
  }
  // The order a reader walks the value in: an object's own problems (missing keys) first,
  // then its members in the order the value has them.
  return [...best.values()]
    .sort((a, b) => compareOrder(a.order, b.order))
    .map((problem) => ({ key: keyPath(key, problem.path), reason: reasonFor(problem.error) }));
}

/** Formats problems as one message: "key: reason; key: reason". */
export function formatProblems(problems: readonly SchemaProblem[]): string {
  return problems.map((p) => `${p.key}: ${p.reason}`).join("; ");
}

interface Located {
  error: ErrorObject;
  /** Path segments of the value the problem is about (object keys as strings, array indexes as numbers). */
  path: (string | number)[];
  /** Sort key: per level, the member's position in its parent; -1 for a missing key (reported first). */
  order: number[];
}

/** Attributes an ajv error to the value it is about: a missing or unknown key is about that key. */
function locate(error: ErrorObject, root: unknown): Located {
  const path: (string | number)[] = [];
  const order: number[] = [];
  let node = root;
  const step = (segment: string, missing: boolean) => {
    if (Array.isArray(node)) {
      const index = Number(segment);
      path.push(index);
      order.push(index);
      node = node[index];
    } else {
      const record = (node ?? {}) as Record<string, unknown>;
      path.push(segment);
      order.push(missing ? -1 : memberPosition(record, segment));
      node = record[segment];
    }
  };
  for (const segment of error.instancePath.split("/").slice(1)) step(unescapePointer(segment), false);
  if (error.propertyName !== undefined) step(error.propertyName, false);
  else if (error.keyword === "required") step(String(error.params.missingProperty), true);
  else if (error.keyword === "additionalProperties") step(String(error.params.additionalProperty), false);
  return { error, path, order };
}

/** Each object's member positions, computed once: one error per member of a large object must not cost a scan each. */
const memberPositions = new WeakMap<object, Map<string, number>>();

function memberPosition(record: Record<string, unknown>, member: string): number {
  let positions = memberPositions.get(record);
  if (!positions) {
    positions = new Map(Object.keys(record).map((key, index) => [key, index]));
    memberPositions.set(record, positions);
  }
  return positions.get(member) ?? -1;
}

function unescapePointer(segment: string): string {
  return segment.replaceAll("~1", "/").replaceAll("~0", "~");
}

function compareOrder(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const difference = (a[i] as number) - (b[i] as number);
    if (difference !== 0) return difference;
  }
  // A value's own problem comes before its members' problems.
  return a.length - b.length;
}

/** Which of several problems with one value to report: the most basic one. */
function rank(error: ErrorObject): number {
  const order = ["type", "required", "additionalProperties", "minLength", "pattern", "minimum", "maximum"];
  const index = order.indexOf(error.keyword);
  if (error.keyword === "enum") return order.length + 1;
  return index === -1 ? order.length : index;
}

/** "subnets[1]", "credentials.roleArn", or "(root)" for the value itself. */
function keyPath(prefix: string, path: readonly (string | number)[]): string {
  let key = prefix;
  for (const segment of path)
    key = typeof segment === "number" ? `${key}[${segment}]` : key ? `${key}.${segment}` : segment;
  return key || "(root)";
}

function reasonFor(error: ErrorObject): string {
  const schema = error.parentSchema as SchemaNode | undefined;
  const { params } = error;
  if (error.propertyName !== undefined) {
    return `is not a valid name${schema?.["x-expected"] ? `; use ${schema["x-expected"]}` : ` (${error.message ?? "see the schema"})`}`;
  }
  const expected = schema?.["x-expected"];
  if (typeof expected === "string" && !["required", "additionalProperties"].includes(error.keyword)) {
    return `must be ${expected}, got ${describe(error.data)}`;
  }
  switch (error.keyword) {
    case "type": {
      const expected: Record<string, string> = {
        object: "an object",
        array: "an array",
        string: "a string",
        integer: "an integer",
        number: "a number",
      };
      const type = String(params.type);
      if (type === "boolean") return `must be true or false, got ${describe(error.data)}`;
      return `must be ${expected[type] ?? type.split(",").join(" or ")}, got ${describe(error.data)}`;
    }
    case "required": {
      const missing = schema?.properties?.[String(params.missingProperty)];
      const what = missing?.["x-expected"] ? `it must be ${missing["x-expected"]}` : missing?.description;
      return `is required${what ? `: ${what}` : ""}`;
    }
    case "additionalProperties":
      return `is not a known key; known keys are: ${Object.keys(schema?.properties ?? {}).join(", ")}`;
    case "minItems":
      return `must have at least ${params.limit} item(s)`;
    case "minLength":
      return params.limit === 1 ? "must not be empty" : `must have at least ${params.limit} characters`;
    case "pattern":
      return `${describe(error.data)} does not match ${params.pattern}${schema?.description ? ` (${schema.description})` : ""}`;
    case "minimum":
      return `must be >= ${params.limit}`;
    case "maximum":
      return `must be <= ${params.limit}`;
    case "enum":
      return `must be one of ${(params.allowedValues as unknown[]).map((e) => JSON.stringify(e)).join(", ")}, got ${describe(error.data)}`;
    default:
      // ajv's own wording for keywords the messages above do not cover; it names limits and
      // formats, never the data.
      return error.message ?? `fails the schema's "${error.keyword}" rule`;
  }
}

/**
 * Describes a value by its kind, never its content: a misplaced secret (a token, or a number
 * such as an account key pasted into an env map) must not end up in an error or a log.
 */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `a string of ${value.length} character${value.length === 1 ? "" : "s"}`;
  if (typeof value === "object") return "an object";
  if (typeof value === "boolean") return "true or false";
  return `a ${typeof value}`;
}

/** A copy without members set to undefined (absent in JSON), so ajv does not see them as present. */
function withoutUndefinedMembers(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutUndefinedMembers);
  if (value === null || typeof value !== "object") return value;
  const copy: Record<string, unknown> = {};
  for (const [name, member] of Object.entries(value)) {
    if (member !== undefined) copy[name] = withoutUndefinedMembers(member);
  }
  return copy;
}
