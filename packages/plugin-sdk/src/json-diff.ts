/**
 * Compares a desired resource configuration with the actual one, key by key,
 * producing the contract's FieldChange list. Only keys the desired config
 * sets are compared (an unset key means "leave as is"). Values of sensitive
 * keys are masked. In the SDK because every cloud plugin's resource
 * drivers need the same diff (and the same canonical JSON for content hashes).
 */

/** One difference, in the shape of the contract's FieldChange. */
export interface ConfigChange {
  /** JSON Pointer of the key, e.g. "/desiredCount". */
  path: string;
  /** Actual value as JSON; "" when absent. */
  actualJson: string;
  /** Desired value as JSON. */
  desiredJson: string;
  /** True when the change needs the resource replaced. */
  requiresReplacement: boolean;
}

/** What the diff needs to know about a resource type. */
export interface DiffRules {
  /** JSON Pointers whose change replaces the resource. */
  replaceOn?: readonly string[];
  /** JSON Pointers whose values are masked. */
  sensitive?: readonly string[];
}

/** The masked form of a sensitive value. */
export const maskedJson = '"***"';

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      // Code-unit order, never localeCompare: the order feeds content hashes (task definition
      // families), which must not change with the host's LANG/LC_ALL.
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function escapePointer(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}

/** The changes needed to make `actual` match `desired` on the keys `desired` sets. */
export function diffConfig(
  actual: Record<string, unknown>,
  desired: Record<string, unknown>,
  rules: DiffRules = {},
): ConfigChange[] {
  const changes: ConfigChange[] = [];
  for (const [key, want] of Object.entries(desired)) {
    if (want === undefined) continue;
    const have = actual[key];
    if (have !== undefined && canonical(have) === canonical(want)) continue;
    const path = `/${escapePointer(key)}`;
    const sensitive = rules.sensitive?.includes(path) ?? false;
    changes.push({
      path,
      actualJson: have === undefined ? "" : sensitive ? maskedJson : canonical(have),
      desiredJson: sensitive ? maskedJson : canonical(want),
      requiresReplacement: rules.replaceOn?.includes(path) ?? false,
    });
  }
  return changes;
}

/** A stable JSON text for hashing: keys sorted, undefined dropped. */
export function canonicalJson(value: unknown): string {
  return canonical(value);
}
