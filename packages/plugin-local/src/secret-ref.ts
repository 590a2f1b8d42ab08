/**
 * Secret references the local provider resolves on its own side, so a
 * secret's value never crosses the gRPC wire and never reaches a log.
 *
 * Two schemes:
 * - `secret://env/NAME` — the value of environment variable NAME in the
 *   plugin's own environment (the host grants it through the plugin's `env`
 *   in flotilla.yaml; the plugin does not inherit the host's environment).
 * - `secret://file/ABSOLUTE/PATH` — the contents of the file at
 *   /ABSOLUTE/PATH, with one trailing newline removed (files written by
 *   `echo` or editors end with one; secrets almost never do).
 */
import { readFile } from "node:fs/promises";
import { InvalidArgumentError, NotFoundError, PermissionDeniedError } from "@flotilla/protocol";

/** A parsed secret reference. */
export type SecretRef = { scheme: "env"; name: string } | { scheme: "file"; path: string };

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Parses `secret://env/NAME` or `secret://file/PATH`. `key` is the secret
 * env variable the reference belongs to, used only to name it in errors.
 * Errors quote the reference (a reference is not a secret) and the accepted forms.
 */
export function parseSecretRef(key: string, reference: string): SecretRef {
  const forms = 'use "secret://env/VAR_NAME" or "secret://file//absolute/path"';
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
    if (!body.startsWith("/")) {
      throw new InvalidArgumentError(
        `spec.secret_env.${key}: ${JSON.stringify(reference)} needs an absolute path after "secret://file/", e.g. "secret://file//run/secrets/token"`,
      );
    }
    return { scheme: "file", path: body };
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
  try {
    const contents = await readFile(ref.path, "utf8");
    return contents.endsWith("\n") ? contents.slice(0, contents.endsWith("\r\n") ? -2 : -1) : contents;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new NotFoundError(`spec.secret_env.${key}: ${reference}: file ${ref.path} does not exist`);
    }
    if (code === "EACCES" || code === "EPERM") {
      throw new PermissionDeniedError(
        `spec.secret_env.${key}: ${reference}: the local provider may not read ${ref.path}`,
      );
    }
    throw new InvalidArgumentError(
      `spec.secret_env.${key}: ${reference}: could not read ${ref.path} (${code ?? "error"})`,
    );
  }
}

/** Resolves every entry of a JobSpec's secret_env; the first failure throws. */
export async function resolveSecretEnv(
  secretEnv: Readonly<Record<string, string>>,
  environment: NodeJS.ProcessEnv = process.env,
): Promise<Record<string, string>> {
  const resolved: Record<string, string> = {};
  for (const [key, reference] of Object.entries(secretEnv)) {
    resolved[key] = await resolveSecretRef(key, reference, environment);
  }
  return resolved;
}
