/**
 * Secret references the local provider resolves on its own side, so a
 * secret's value never crosses the gRPC wire and never reaches a log.
 *
 * Two stores, both in the `secret://STORE/KEY` shape the rest of Flotilla
 * uses (so the host can validate and pass references through unchanged):
 * - `secret://env/NAME` — the value of environment variable NAME in the
 *   plugin's own environment (the host grants it through the plugin's `env`
 *   or `inherit_env` in flotilla.yaml; the plugin does not inherit the
 *   host's environment).
 * - `secret://file/NAME` — the contents of the file NAME in the plugin's
 *   secrets directory (config `secrets_dir`, default /run/secrets, where
 *   Docker and Kubernetes mount secrets), with one trailing newline removed
 *   (files written by `echo` or editors end with one; secrets almost never
 *   do). NAME is a plain file name, so a reference cannot read files outside
 *   that directory.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { InvalidArgumentError, NotFoundError, PermissionDeniedError } from "@flotilla/protocol";

/** A parsed secret reference. */
export type SecretRef = { scheme: "env"; name: string } | { scheme: "file"; fileName: string };

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FILE_NAME = /^[-._a-zA-Z0-9]+$/;

/** Where `secret://file/NAME` references are read from unless configured otherwise. */
export const DEFAULT_SECRETS_DIR = "/run/secrets";

/**
 * Parses `secret://env/NAME` or `secret://file/NAME`. `key` is the secret
 * env variable the reference belongs to, used only to name it in errors.
 * Errors quote the reference (a reference is not a secret) and the accepted forms.
 */
export function parseSecretRef(key: string, reference: string): SecretRef {
  const forms = 'use "secret://env/VAR_NAME" or "secret://file/FILE_NAME"';
  const prefix = "secret://";
  if (!reference.startsWith(prefix)) {
    throw new InvalidArgumentError(
      `spec.secret_env.${key}: ${JSON.stringify(reference)} is not a secret reference; ${forms}`,
    );
  }
  const rest = reference.slice(prefix.length);
  const slash = rest.indexOf("/");
  const scheme = slash < 0 ? rest : rest.slice(0, slash);
  const body = slash < 0 ? "" : rest.slice(slash + 1);
  if (scheme === "env") {
    if (!ENV_NAME.test(body)) {
      throw new InvalidArgumentError(
        `spec.secret_env.${key}: ${JSON.stringify(reference)} does not name an environment variable (letters, digits, _); ${forms}`,
      );
    }
    return { scheme: "env", name: body };
  }
  if (scheme === "file") {
    if (!FILE_NAME.test(body) || body === "." || body === "..") {
      throw new InvalidArgumentError(
        `spec.secret_env.${key}: ${JSON.stringify(reference)} must name a file in the local provider's secrets directory (letters, digits, '-', '_', '.'; no '/'), e.g. "secret://file/db-password"`,
      );
    }
    return { scheme: "file", fileName: body };
  }
  throw new InvalidArgumentError(
    `spec.secret_env.${key}: secret store ${JSON.stringify(scheme)} in ${JSON.stringify(reference)} is not known to the local provider; ${forms}`,
  );
}

/**
 * Resolves one reference to its value. Errors name the variable, the
 * reference and what is missing — never the value.
 */
export async function resolveSecretRef(
  key: string,
  reference: string,
  environment: NodeJS.ProcessEnv = process.env,
  secretsDir: string = DEFAULT_SECRETS_DIR,
): Promise<string> {
  const ref = parseSecretRef(key, reference);
  if (ref.scheme === "env") {
    const value = environment[ref.name];
    if (value === undefined) {
      throw new NotFoundError(
        `spec.secret_env.${key}: ${reference} is not set in the local provider's environment; grant it with plugins.<name>.env in flotilla.yaml (or export it before \`flotilla run\` for the built-in local provider)`,
      );
    }
    return value;
  }
  const path = join(secretsDir, ref.fileName);
  try {
    const contents = await readFile(path, "utf8");
    return contents.endsWith("\n") ? contents.slice(0, contents.endsWith("\r\n") ? -2 : -1) : contents;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new NotFoundError(
        `spec.secret_env.${key}: ${reference}: file ${path} does not exist (the local provider's secrets_dir is ${secretsDir})`,
      );
    }
    if (code === "EACCES" || code === "EPERM") {
      throw new PermissionDeniedError(`spec.secret_env.${key}: ${reference}: the local provider may not read ${path}`);
    }
    throw new InvalidArgumentError(`spec.secret_env.${key}: ${reference}: could not read ${path} (${code ?? "error"})`);
  }
}

/** Resolves every entry of a JobSpec's secret_env; the first failure throws. */
export async function resolveSecretEnv(
  secretEnv: Readonly<Record<string, string>>,
  environment: NodeJS.ProcessEnv = process.env,
  secretsDir: string = DEFAULT_SECRETS_DIR,
): Promise<Record<string, string>> {
  const resolved: Record<string, string> = {};
  for (const [key, reference] of Object.entries(secretEnv)) {
    resolved[key] = await resolveSecretRef(key, reference, environment, secretsDir);
  }
  return resolved;
}
