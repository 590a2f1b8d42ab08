/**
 * Secrets in configs and in text. Which parts of a config are secrets, as its JSON Schema says: a node with
 * `"writeOnly": true` is sensitive. writeOnly is JSON Schema's own annotation
 * for a value that is sent but never read back ("a password", draft 2020-12
 * validation vocabulary, section 9.4), so a schema marked this way means the
 * same to any JSON Schema tool; it changes nothing about what is valid. The
 * contract says so on ContractRegistry.config_schema_json.
 *
 * Plugin side (the SDK) and host side (the CLI's `plugin inspect`) read the
 * marks through these functions, so both sides agree on what is redacted.
 *
 * The walk follows `properties`, `patternProperties`, `additionalProperties`,
 * `items`, `prefixItems` and `allOf`/`anyOf`/`oneOf` (a value is sensitive if
 * any branch marks it); `$ref` is not followed.
 *
 * Once the secret values are known, {@link maskSecretValues} hides them in
 * free text: the host masks the secrets it granted a plugin in the plugin's
 * log lines, the SDK masks config secrets in its logs and errors.
 */
import type { SchemaNode } from "./schema-check.js";

/** The annotation that marks a value as sensitive. */
export const SENSITIVE_KEYWORD = "writeOnly";

/** What a sensitive value is shown as. */
export const REDACTED_VALUE = "[redacted]";

/** Whether this node itself is marked sensitive. */
export function isSensitiveNode(node: unknown): boolean {
  return typeof node === "object" && node !== null && (node as SchemaNode)[SENSITIVE_KEYWORD] === true;
}

function asNode(value: unknown): SchemaNode | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as SchemaNode) : undefined;
}

function branches(node: SchemaNode): SchemaNode[] {
  const out: SchemaNode[] = [];
  for (const keyword of ["allOf", "anyOf", "oneOf"]) {
    const list = node[keyword];
    if (Array.isArray(list)) for (const branch of list) if (asNode(branch)) out.push(branch as SchemaNode);
  }
  return out;
}

/**
 * The key paths of every sensitive value the schema describes, in the key
 * syntax schema errors use: `password`, `auth.token`, `headers[]` (any item),
 * `env.*` (any member not listed in `properties`). Sorted, without repeats.
 */
export function sensitiveKeys(schema: unknown): string[] {
  const found = new Set<string>();
  const walk = (node: SchemaNode | undefined, path: string, depth: number) => {
    if (!node || depth > 32) return;
    if (isSensitiveNode(node)) {
      found.add(path || "(root)");
      return;
    }
    for (const [name, child] of Object.entries(asNode(node.properties) ?? {}))
      walk(asNode(child), path ? `${path}.${name}` : name, depth + 1);
    const anyMember = path ? `${path}.*` : "*";
    for (const child of Object.values(asNode(node.patternProperties) ?? {})) walk(asNode(child), anyMember, depth + 1);
    walk(asNode(node.additionalProperties), anyMember, depth + 1);
    walk(asNode(node.items), `${path}[]`, depth + 1);
    if (Array.isArray(node.prefixItems)) {
      node.prefixItems.forEach((child, index) => {
        walk(asNode(child), `${path}[${index}]`, depth + 1);
      });
    }
    for (const branch of branches(node)) walk(branch, path, depth + 1);
  };
  walk(asNode(schema), "", 0);
  return [...found].sort();
}

/** The schema nodes that describe `member` of an object value. */
function memberNodes(node: SchemaNode, member: string): SchemaNode[] {
  const listed = asNode(node.properties)?.[member];
  if (listed !== undefined) return asNode(listed) ? [listed as SchemaNode] : [];
  const out: SchemaNode[] = [];
  for (const [pattern, child] of Object.entries(asNode(node.patternProperties) ?? {})) {
    if (asNode(child) && safeTest(pattern, member)) out.push(child as SchemaNode);
  }
  const additional = asNode(node.additionalProperties);
  if (additional && out.length === 0) out.push(additional);
  return out;
}

function safeTest(pattern: string, text: string): boolean {
  try {
    return new RegExp(pattern, "u").test(text);
  } catch {
    return false;
  }
}

/** The schema nodes that describe item `index` of an array value. */
function itemNodes(node: SchemaNode, index: number): SchemaNode[] {
  const prefix = Array.isArray(node.prefixItems) ? asNode(node.prefixItems[index]) : undefined;
  if (prefix) return [prefix];
  const items = asNode(node.items);
  return items ? [items] : [];
}

/**
 * Walks `value` along `schema`, calling `onSensitive` with each value a
 * sensitive node describes; returns the value rebuilt with what it returned
 * in place of those values.
 */
function mapSensitive(value: unknown, schema: unknown, onSensitive: (value: unknown) => unknown): unknown {
  const visit = (data: unknown, nodes: SchemaNode[], depth: number): unknown => {
    const all = nodes.flatMap((node) => [node, ...branches(node)]);
    if (all.some(isSensitiveNode)) return onSensitive(data);
    if (depth > 32 || data === null || typeof data !== "object" || all.length === 0) return data;
    if (Array.isArray(data))
      return data.map((item, index) =>
        visit(
          item,
          all.flatMap((node) => itemNodes(node, index)),
          depth + 1,
        ),
      );
    const out: Record<string, unknown> = {};
    for (const [member, child] of Object.entries(data))
      out[member] = visit(
        child,
        all.flatMap((node) => memberNodes(node, member)),
        depth + 1,
      );
    return out;
  };
  const root = asNode(schema);
  return visit(value, root ? [root] : [], 0);
}

/**
 * A copy of `value` with every value the schema marks sensitive replaced by
 * `[redacted]`: what to show wherever a config is echoed (a log record, a
 * report). Members the schema does not describe are kept as they are.
 */
export function redactSensitive(value: unknown, schema: unknown): unknown {
  return mapSensitive(value, schema, (secret) => (secret === undefined ? undefined : REDACTED_VALUE));
}

/**
 * The sensitive values in `value` as text (strings as they are, numbers in
 * decimal, and so each leaf of an object or array; true and false are no
 * secret): what to mask in free text such as an error message a handler wrote.
 */
export function sensitiveValues(value: unknown, schema: unknown): string[] {
  const found: string[] = [];
  const collect = (secret: unknown, depth: number): void => {
    if (secret === null || secret === undefined || depth > 32) return;
    if (typeof secret === "string") found.push(secret);
    else if (typeof secret === "number" || typeof secret === "bigint") found.push(String(secret));
    else if (typeof secret === "object") for (const member of Object.values(secret)) collect(member, depth + 1);
  };
  mapSensitive(value, schema, (secret) => {
    collect(secret, 0);
    return secret;
  });
  return found;
}

/**
 * A copy of `value` with every occurrence of each secret in its strings
 * (walked through arrays and objects) replaced by `replacement`. Pass longer
 * secrets first when one may contain another.
 */
export function maskSecretValues<T>(value: T, secrets: readonly string[], replacement = REDACTED_VALUE): T {
  if (secrets.length === 0) return value;
  if (typeof value === "string") {
    let out: string = value;
    for (const secret of secrets) if (secret !== "" && out.includes(secret)) out = out.replaceAll(secret, replacement);
    return out as T;
  }
  if (Array.isArray(value)) return value.map((item) => maskSecretValues(item, secrets, replacement)) as T;
  if (value && typeof value === "object" && !(value instanceof Error)) {
    const out: Record<string, unknown> = {};
    for (const [key, member] of Object.entries(value)) out[key] = maskSecretValues(member, secrets, replacement);
    return out as T;
  }
  return value;
}
