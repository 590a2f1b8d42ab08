/**
 * Resolves the credential references the host passes to Configure into
 * static AWS keys. References are resolved here, inside the plugin, so the
 * host never holds the values. With no references the plugin uses the
 * standard AWS credential chain (or the configured profile).
 */
import { readFile } from "node:fs/promises";
import { isAbsolute } from "node:path";
import { type CredentialReference, InvalidArgumentError, parseSecretReference } from "@flotilla/protocol";
import type { StaticAwsCredentials } from "./clients.js";

/** The credential reference names this plugin understands. */
export const credentialNames = ["access_key_id", "secret_access_key", "session_token"] as const;

/**
 * One credential's value. References follow the grammar of @flotilla/protocol, with two stores:
 * `secret://env/VAR` (the plugin's environment) and `secret://file//ABSOLUTE/PATH` (a file the plugin
 * may read, its contents trimmed). Errors name the credential and the reference, never a value.
 */
async function resolveReference(name: string, reference: string): Promise<string> {
  const where = `credentials[${JSON.stringify(name)}]`;
  const { store, rest } = parseSecretReference(reference, where);
  if (store === "env") {
    const value = process.env[rest];
    if (!value)
      throw new InvalidArgumentError(`${where}: environment variable ${rest} is not set in the plugin's environment`);
    return value;
  }
  if (store === "file" && isAbsolute(rest)) {
    try {
      return (await readFile(rest, "utf8")).trim();
    } catch (err) {
      throw new InvalidArgumentError(
        `${where}: cannot read ${rest}: ${(err as NodeJS.ErrnoException).code ?? "error"}`,
      );
    }
  }
  throw new InvalidArgumentError(
    `${where}: ${JSON.stringify(reference)}: the aws plugin resolves credentials from secret://env/VAR and secret://file//ABSOLUTE/PATH`,
  );
}

/** Static keys from the references, or undefined when none are given (use the credential chain). */
export async function resolveAwsCredentials(
  references: readonly CredentialReference[],
): Promise<StaticAwsCredentials | undefined> {
  if (references.length === 0) return undefined;
  const values: Record<string, string> = {};
  for (const { name, reference } of references) {
    if (!(credentialNames as readonly string[]).includes(name)) {
      throw new InvalidArgumentError(
        `credentials[${JSON.stringify(name)}]: unknown credential name; the aws plugin accepts ${credentialNames.join(", ")}`,
      );
    }
    values[name] = await resolveReference(name, reference);
  }
  if (!values.access_key_id || !values.secret_access_key) {
    throw new InvalidArgumentError(
      "credentials: access_key_id and secret_access_key must be given together (or neither, to use the standard AWS credential chain)",
    );
  }
  return {
    accessKeyId: values.access_key_id,
    secretAccessKey: values.secret_access_key,
    ...(values.session_token ? { sessionToken: values.session_token } : {}),
  };
}
