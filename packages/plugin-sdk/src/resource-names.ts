/**
 * Names for what a plugin creates from a job's idempotency key, within a
 * provider's rules for length and characters: the same key always gives the
 * same name (a retried RunJob finds what the first one created instead of
 * creating a second), different keys give different names (a hash of the
 * whole key ends every name), and the readable part keeps the name
 * recognisable in the provider's console.
 */
import { createHash } from "node:crypto";
import { InvalidArgumentError } from "@flotilla/protocol";

/** A provider's rules for a name. */
export interface ResourceNameRules {
  /** The longest name the provider accepts, e.g. 64 for an ECS client token, 63 for a Cloud Run job. */
  readonly maxLength: number;
  /** One character the provider accepts, e.g. /[a-z0-9-]/ ; others are replaced by `separator`. */
  readonly allowed: RegExp;
  /** Written before the name, e.g. "flotilla-"; must follow the rules itself. */
  readonly prefix?: string;
  /** Lower-case the readable part first (providers whose names are lower case). Default false. */
  readonly lowerCase?: boolean;
  /** Replaces runs of characters the provider does not accept, and joins the hash. Default "-". */
  readonly separator?: string;
  /** Hex digits of the key's SHA-256 at the end; default 16 (64 bits: no collision in practice). */
  readonly hashLength?: number;
}

/**
 * The name for `key` under `rules`: `<prefix><readable part of key><separator><hash>`, at most
 * `rules.maxLength` characters, using only characters `rules.allowed` accepts.
 */
export function resourceNameFor(key: string, rules: ResourceNameRules): string {
  const prefix = rules.prefix ?? "";
  const separator = rules.separator ?? "-";
  const hash = createHash("sha256")
    .update(key)
    .digest("hex")
    .slice(0, rules.hashLength ?? 16);
  const fixed = prefix.length + separator.length + hash.length;
  if (fixed > rules.maxLength) {
    throw new InvalidArgumentError(
      `resource name: maxLength ${rules.maxLength} leaves no room for the prefix ${JSON.stringify(prefix)} and a ${hash.length}-digit hash; allow a longer name or a shorter prefix`,
    );
  }
  const one = new RegExp(`^(?:${rules.allowed.source})$`, rules.allowed.flags.replace("g", ""));
  const source = rules.lowerCase ? key.toLowerCase() : key;
  let readable = "";
  for (const char of source) {
    const next = one.test(char) ? char : separator;
    if (next === separator && (readable.endsWith(separator) || readable === "")) continue;
    readable += next;
  }
  readable = readable.slice(0, rules.maxLength - fixed);
  while (readable.endsWith(separator)) readable = readable.slice(0, -separator.length);
  return `${prefix}${readable}${readable ? separator : ""}${hash}`;
}
