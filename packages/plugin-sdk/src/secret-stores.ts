/**
 * Resolving a job's `secret://` references on the plugin's side, one resolver
 * per store: the grammar is @flotilla/protocol's (`parseSecretReference`), and
 * each store a plugin supports says what its own part means and how to read
 * it. The SDK checks every reference before any is read, so a job with one bad
 * reference reads no secret at all, and errors name the variable and the
 * reference — never a value.
 */
import { readFile } from "node:fs/promises";
import { isAbsolute } from "node:path";
import { InvalidArgumentError, parseSecretEnv, parseSecretReference } from "@flotilla/protocol";

/**
 * Reads one secret from a store. `rest` is the reference's part after the store (`DB_PASSWORD` of
 * `secret://env/DB_PASSWORD`); `where` names the reference in errors (`spec.secret_env.DB`).
 */
export type SecretStoreResolver = (rest: string, where: string, reference: string) => Promise<string> | string;

/** The stores a plugin resolves, by store name (`env`, `file`, `ssm`, ...). */
export type SecretStores = Readonly<Record<string, SecretStoreResolver>>;

/**
 * Resolves every entry of a `secret_env` map with `stores`; `where` prefixes each variable's name in
 * errors. A reference to a store not in `stores` is refused with the stores this plugin resolves.
 */
export async function resolveSecretEnv(
  secretEnv: Readonly<Record<string, string>>,
  stores: SecretStores,
  where = "spec.secret_env",
): Promise<Record<string, string>> {
  const references = parseSecretEnv(secretEnv, where);
  for (const [variable, { store, reference }] of references)
    checkStore(store, reference, stores, `${where}.${variable}`);
  const resolved: Record<string, string> = {};
  for (const [variable, { store, rest, reference }] of references) {
    resolved[variable] = await (stores[store] as SecretStoreResolver)(rest, `${where}.${variable}`, reference);
  }
  return resolved;
}

function checkStore(store: string, reference: string, stores: SecretStores, where: string): void {
  if (Object.hasOwn(stores, store)) return;
  const known = Object.keys(stores);
  throw new InvalidArgumentError(
    `${where}: secret store ${JSON.stringify(store)} in ${JSON.stringify(reference)} is not one this plugin resolves; use ${known.map((name) => `secret://${name}/...`).join(" or ") || "no secret references (this plugin resolves none)"}`,
  );
}

/**
 * Resolves one reference, e.g. a credential reference Configure receives, with `stores`; `where` names it in
 * errors (`credentials["service_account_key"]`).
 */
export async function resolveSecretReference(reference: string, stores: SecretStores, where: string): Promise<string> {
  const { store, rest } = parseSecretReference(reference, where);
  checkStore(store, reference, stores, where);
  return (stores[store] as SecretStoreResolver)(rest, where, reference);
}

/** `secret://env/VAR`: the variable VAR of the plugin's own environment (a host passes it only what it is told to). */
export const envSecretStore: SecretStoreResolver = (name, where) => {
  const value = process.env[name];
  if (!value)
    throw new InvalidArgumentError(`${where}: environment variable ${name} is not set in the plugin's environment`);
  return value;
};

/** `secret://file//ABSOLUTE/PATH`: the content of a file the plugin can read, without surrounding whitespace. */
export const fileSecretStore: SecretStoreResolver = async (path, where) => {
  if (!isAbsolute(path))
    throw new InvalidArgumentError(
      `${where}: ${JSON.stringify(path)} is not an absolute path; write secret://file//ABSOLUTE/PATH`,
    );
  try {
    return (await readFile(path, "utf8")).trim();
  } catch (err) {
    throw new InvalidArgumentError(`${where}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? "error"}`);
  }
};

/** The stores of the plugin's own machine: `env` and `file`. */
export const localSecretStores: SecretStores = Object.freeze({ env: envSecretStore, file: fileSecretStore });
