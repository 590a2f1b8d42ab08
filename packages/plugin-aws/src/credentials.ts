/**
 * Resolves the credential references the host passes to Configure into
 * static AWS keys. References are resolved here, inside the plugin, so the
 * host never holds the values. With no references the plugin uses the
 * standard AWS credential chain (or the configured profile).
 */
import { localSecretStores, resolveSecretReference } from "@flotilla/plugin-sdk";
import { type CredentialReference, InvalidArgumentError } from "@flotilla/protocol";
import type { StaticAwsCredentials } from "./clients.js";

/** The credential reference names this plugin understands. */
export const credentialNames = ["access_key_id", "secret_access_key", "session_token"] as const;

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
    values[name] = await resolveSecretReference(reference, localSecretStores, `credentials[${JSON.stringify(name)}]`);
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
