/**
 * Resolves the credential references the host passes to Configure. With none,
 * the plugin uses Application Default Credentials; the one credential it
 * takes is `service_account_key`, a reference to a service-account JSON key,
 * resolved here inside the plugin so the host never holds it. Errors name the
 * credential and the reference, never a value.
 */
import { localSecretStores, resolveSecretReference } from "@flotilla/plugin-sdk";
import { type CredentialReference, InvalidArgumentError } from "@flotilla/protocol";
import type { GcpServiceAccountKey } from "./clients.js";

/** The credential names this plugin understands. */
export const credentialNames = ["service_account_key"] as const;

/** The service-account key the references name, or undefined (Application Default Credentials). */
export async function resolveGcpCredentials(
  references: readonly CredentialReference[],
): Promise<GcpServiceAccountKey | undefined> {
  let key: GcpServiceAccountKey | undefined;
  for (const { name, reference } of references) {
    const where = `credentials[${JSON.stringify(name)}]`;
    if (!(credentialNames as readonly string[]).includes(name))
      throw new InvalidArgumentError(
        `${where}: unknown credential name; the gcp plugin accepts ${credentialNames.join(", ")} (or none, for Application Default Credentials)`,
      );
    const text = await resolveSecretReference(reference, localSecretStores, where);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // The parser's message may quote the key's text: say only what is wrong.
      throw new InvalidArgumentError(
        `${where}: ${reference} does not hold JSON; give a service-account key file's content`,
      );
    }
    const fields = parsed as Partial<GcpServiceAccountKey> | null;
    if (typeof fields?.client_email !== "string" || typeof fields.private_key !== "string")
      throw new InvalidArgumentError(
        `${where}: ${reference} is not a service-account key (it lacks client_email or private_key); create one with \`gcloud iam service-accounts keys create\``,
      );
    key = fields as GcpServiceAccountKey;
  }
  return key;
}
