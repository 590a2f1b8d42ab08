/**
 * Resolves the credential references the host passes to Configure. With none,
 * the plugin uses Application Default Credentials; the one credential it
 * takes is `service_account_key`, a reference to a service-account JSON key,
 * resolved here inside the plugin so the host never holds it. Errors name the
 * credential and the reference, never a value.
 */
import { readFile } from "node:fs/promises";
import { isAbsolute } from "node:path";
import { type CredentialReference, InvalidArgumentError, parseSecretReference } from "@flotilla/protocol";
import type { GcpServiceAccountKey } from "./clients.js";

/** The credential names this plugin understands. */
export const credentialNames = ["service_account_key"] as const;

async function readReference(where: string, reference: string): Promise<string> {
  const { store, rest } = parseSecretReference(reference, where);
  if (store === "env") {
    const value = process.env[rest];
    if (!value)
      throw new InvalidArgumentError(`${where}: environment variable ${rest} is not set in the plugin's environment`);
    return value;
  }
  if (store === "file" && isAbsolute(rest)) {
    try {
      return await readFile(rest, "utf8");
    } catch (err) {
      throw new InvalidArgumentError(
        `${where}: cannot read ${rest}: ${(err as NodeJS.ErrnoException).code ?? "error"}`,
      );
    }
  }
  throw new InvalidArgumentError(
    `${where}: ${JSON.stringify(reference)}: the gcp plugin resolves credentials from secret://env/VAR and secret://file//ABSOLUTE/PATH`,
  );
}

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
    const text = await readReference(where, reference);
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
