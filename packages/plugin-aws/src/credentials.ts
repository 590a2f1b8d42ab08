/**
 * Resolves the credential references the host passes to Configure into
 * static AWS keys. References are resolved here, inside the plugin, so the
 * host never holds the values. With no references the plugin uses the
 * standard AWS credential chain (or the configured profile).
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { type CredentialReference, InvalidArgumentError } from "@flotilla/protocol";
import type { StaticAwsCredentials } from "./clients.js";

/** The credential reference names this plugin understands. */
export const credentialNames = ["access_key_id", "secret_access_key", "session_token"] as const;

async function resolveReference(name: string, reference: string): Promise<string> {
  const where = `credentials[${JSON.stringify(name)}]`;
  if (reference.startsWith("env://")) {
    const variable = reference.slice("env://".length);
    const value = process.env[variable];
    if (!value)
      throw new InvalidArgumentError(
        `${where}: environment variable ${variable} is not set in the plugin's environment`,
      );
    return value;
  }
  if (reference.startsWith("file://")) {
    try {
      return (await readFile(fileURLToPath(reference), "utf8")).trim();
    } catch (err) {
      throw new InvalidArgumentError(
        `${where}: cannot read ${reference}: ${(err as NodeJS.ErrnoException).code ?? "error"}`,
      );
    }
  }
  throw new InvalidArgumentError(
    `${where}: the aws plugin resolves env://VAR and file:///path references; got scheme ${JSON.stringify(reference.split("://")[0])}`,
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
