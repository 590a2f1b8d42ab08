/**
 * `secret://` references: how a job or a plugin's configuration names a secret
 * without carrying its value. This is the one grammar every part of Flotilla
 * checks references against (the CLI, the host's config, the execution
 * environments, the plugins); what comes after the store is opaque here, and
 * each store checks its own part where the reference is resolved.
 *
 *     reference = "secret://" store "/" rest
 *               | "secret://arn:" rest          (the `arn` store: an AWS ARN, whole)
 *     store     = lower-case letters, digits, '-' and '.', starting and ending
 *                 with a letter or digit, at most 253 characters (a DNS subdomain,
 *                 so a Kubernetes Secret's name is a store)
 *     rest      = one or more characters, none of them whitespace or control
 *                 characters
 *
 * Stores Flotilla knows: `env` and `file` (resolved on the machine that runs the
 * job: the local provider, local execution environments), `ssm`, `secretsmanager`
 * and `arn` (the AWS plugin, resolved by ECS), and any Kubernetes Secret's name
 * (`secret://NAME/KEY`, resolved by the kubelet).
 */
import { InvalidArgumentError } from "./errors.js";

/** A reference split into its store and the store's own part. */
export interface SecretReference {
  /** Where the secret lives: `env`, `file`, `ssm`, `secretsmanager`, `arn`, a Kubernetes Secret's name... */
  readonly store: string;
  /** The store's own part, unchecked here: a variable name, a file name, a key, the rest of an ARN. */
  readonly rest: string;
  /** The reference as written. */
  readonly reference: string;
}

/** The prefix every reference starts with. */
export const SECRET_REFERENCE_PREFIX = "secret://";

const STORE = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses.
const REST = /^[^\s\u0000-\u001f\u007f]+$/;

/**
 * Splits `reference` into store and rest, or throws an InvalidArgumentError that
 * names `where` (e.g. `--secret DB_PASSWORD` or `secret_env.DB_PASSWORD`), says
 * what is wrong and shows the accepted form. A text that is not a reference at
 * all is never echoed: it is most often a secret pasted where its reference belongs.
 */
export function parseSecretReference(reference: string, where: string): SecretReference {
  if (!reference.startsWith(SECRET_REFERENCE_PREFIX)) {
    throw new InvalidArgumentError(
      `${where}: expected a secret reference such as secret://env/NAME, got a value that is not one (not shown, in case it is a secret); keep the value in a secret store and pass its secret://STORE/KEY reference`,
    );
  }
  const body = reference.slice(SECRET_REFERENCE_PREFIX.length);
  const quoted = JSON.stringify(reference);
  if (body.startsWith("arn:")) {
    const arn = body.slice("arn:".length);
    if (!REST.test(arn)) {
      throw new InvalidArgumentError(
        `${where}: ${quoted} has no ARN after secret://arn: (or one with spaces or control characters); write secret://arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME`,
      );
    }
    return { store: "arn", rest: arn, reference };
  }
  const slash = body.indexOf("/");
  const store = slash < 0 ? body : body.slice(0, slash);
  const rest = slash < 0 ? "" : body.slice(slash + 1);
  if (!STORE.test(store)) {
    throw new InvalidArgumentError(
      `${where}: ${quoted} does not start with a store name (lower-case letters, digits, '-' and '.', e.g. env, file, ssm, or a Kubernetes Secret's name); write secret://STORE/KEY`,
    );
  }
  if (!REST.test(rest)) {
    throw new InvalidArgumentError(
      `${where}: ${quoted} names store ${JSON.stringify(store)} but no key after it (or a key with spaces or control characters); write secret://${store}/KEY`,
    );
  }
  return { store, rest, reference };
}

/** True when `text` follows the grammar; for filters, where a thrown error is not wanted. */
export function isSecretReference(text: string): boolean {
  try {
    parseSecretReference(text, "reference");
    return true;
  } catch {
    return false;
  }
}

/** Checks every entry of a `secret_env` map against the grammar; `where` prefixes each variable's name in errors. */
export function parseSecretEnv(
  secretEnv: Readonly<Record<string, string>>,
  where = "secret_env",
): Map<string, SecretReference> {
  const parsed = new Map<string, SecretReference>();
  for (const [variable, reference] of Object.entries(secretEnv)) {
    parsed.set(variable, parseSecretReference(reference, `${where}.${variable}`));
  }
  return parsed;
}

/**
 * The environment variables that the `secret://env/NAME` references of a `secret_env` map read, each once:
 * the variables a secret is taken from. Whoever resolves them needs them (the CLI grants exactly these to the
 * local provider), and nothing else does: a job gets the secret under the name it asked for, not its source
 * under the source's name too. Entries that are not references are skipped (they are refused elsewhere).
 */
export function secretSourceVariables(secretEnv: Readonly<Record<string, string>>): string[] {
  const names = new Set<string>();
  for (const reference of Object.values(secretEnv)) {
    if (!isSecretReference(reference)) continue;
    const { store, rest } = parseSecretReference(reference, "secret_env");
    if (store === "env") names.add(rest);
  }
  return [...names];
}
