/**
 * Resolving a job's `secret://` references on the plugin's side, one resolver
 * per store: the grammar is @flotilla/protocol's (`parseSecretReference`), and
 * each store a plugin supports says what its own part means and how to read
 * it. The SDK checks every reference before any is read, so a job with one bad
 * reference reads no secret at all, and errors name the variable and the
 * reference — never a value.
 */
import { InvalidArgumentError, parseSecretEnv } from "@flotilla/protocol";

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
  const known = Object.keys(stores);
  for (const [variable, { store, reference }] of references) {
    if (!Object.hasOwn(stores, store)) {
      throw new InvalidArgumentError(
        `${where}.${variable}: secret store ${JSON.stringify(store)} in ${JSON.stringify(reference)} is not one this plugin resolves; use ${known.map((name) => `secret://${name}/...`).join(" or ") || "no secret references (this plugin resolves none)"}`,
      );
    }
  }
  const resolved: Record<string, string> = {};
  for (const [variable, { store, rest, reference }] of references) {
    resolved[variable] = await (stores[store] as SecretStoreResolver)(rest, `${where}.${variable}`, reference);
  }
  return resolved;
}
