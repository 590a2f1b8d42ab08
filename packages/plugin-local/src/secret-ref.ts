/**
 * The two secret stores of this machine, resolved where the job runs so a
 * secret's value never crosses the gRPC wire and never reaches a log. The
 * local provider resolves them for its jobs, and `flotilla run --env` with a
 * local execution environment resolves them with the same code and the same
 * `secrets_dir`.
 *
 * Both use the `secret://STORE/KEY` grammar of @flotilla/protocol:
 * - `secret://env/NAME` — the value of environment variable NAME in the
 *   resolving process's environment (for the plugin: what the host grants it
 *   through the plugin's `env` or `inherit_env` in flotilla.yaml; the plugin does
 *   not inherit the host's environment).
 * - `secret://file/NAME` — the contents of the file NAME in the secrets
 *   directory (config `secrets_dir`, default /run/secrets, where Docker and
 *   Kubernetes mount secrets), with one trailing newline removed (files written
 *   by `echo` or editors end with one; secrets almost never do). NAME is a plain
 *   file name, so a reference cannot read files outside that directory.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { resolveSecretEnv as resolveSecretEnvInStores } from "@flotilla/plugin-sdk";
import { InvalidArgumentError, NotFoundError, PermissionDeniedError, parseSecretReference } from "@flotilla/protocol";

/** A reference to one of this machine's stores. */
export type LocalSecretReference = { store: "env"; name: string } | { store: "file"; fileName: string };

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FILE_NAME = /^[-._a-zA-Z0-9]+$/;

/** Where `secret://file/NAME` references are read from unless configured otherwise. */
export const DEFAULT_SECRETS_DIR = "/run/secrets";

/** What a local store reads from. */
export interface LocalSecretStores {
  /** The environment `secret://env/NAME` reads. */
  readonly environment: NodeJS.ProcessEnv;
  /** The directory `secret://file/NAME` reads; default /run/secrets. */
  readonly secretsDir?: string;
  /** How errors name the environment and the fix for a missing variable. */
  readonly missingVariableHint?: string;
}

const PLUGIN_HINT =
  "the local provider's environment; grant it with plugins.<name>.env in flotilla.yaml (or export it before `flotilla run` for the built-in local provider)";

/**
 * Checks that `reference` names one of this machine's stores; `where` names it in
 * errors (e.g. `spec.secret_env.DB`). Errors quote the reference (a reference is
 * not a secret) and the accepted forms.
 */
export function parseLocalSecretReference(reference: string, where: string): LocalSecretReference {
  const forms = 'use "secret://env/VAR_NAME" or "secret://file/FILE_NAME"';
  const { store, rest } = parseSecretReference(reference, where);
  const quoted = JSON.stringify(reference);
  if (store === "env") {
    if (!ENV_NAME.test(rest)) {
      throw new InvalidArgumentError(
        `${where}: ${quoted} does not name an environment variable (letters, digits, _); ${forms}`,
      );
    }
    return { store: "env", name: rest };
  }
  if (store === "file") {
    if (!FILE_NAME.test(rest) || rest === "." || rest === "..") {
      throw new InvalidArgumentError(
        `${where}: ${quoted} must name a file in the secrets directory (letters, digits, '-', '_', '.'; no '/'), e.g. "secret://file/db-password"`,
      );
    }
    return { store: "file", fileName: rest };
  }
  throw new InvalidArgumentError(
    `${where}: secret store ${JSON.stringify(store)} in ${quoted} is not resolved on this machine (only env and file are; other stores resolve where the job runs: kubernetes, provider plugins); ${forms}`,
  );
}

/**
 * Resolves one reference to its value. Errors name `where`, the reference and
 * what is missing — never the value.
 */
export async function resolveLocalSecret(reference: string, where: string, stores: LocalSecretStores): Promise<string> {
  const ref = parseLocalSecretReference(reference, where);
  if (ref.store === "env") {
    const value = stores.environment[ref.name];
    if (value === undefined) {
      throw new NotFoundError(`${where}: ${reference} is not set in ${stores.missingVariableHint ?? PLUGIN_HINT}`);
    }
    return value;
  }
  const secretsDir = stores.secretsDir ?? DEFAULT_SECRETS_DIR;
  const path = join(secretsDir, ref.fileName);
  try {
    const contents = await readFile(path, "utf8");
    return contents.endsWith("\n") ? contents.slice(0, contents.endsWith("\r\n") ? -2 : -1) : contents;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new NotFoundError(`${where}: ${reference}: file ${path} does not exist (secrets_dir is ${secretsDir})`);
    }
    if (code === "EACCES" || code === "EPERM") {
      throw new PermissionDeniedError(`${where}: ${reference}: this process may not read ${path}`);
    }
    throw new InvalidArgumentError(`${where}: ${reference}: could not read ${path} (${code ?? "error"})`);
  }
}

/** Resolves every entry of a JobSpec's secret_env; the first failure throws. */
export function resolveSecretEnv(
  secretEnv: Readonly<Record<string, string>>,
  stores: LocalSecretStores,
): Promise<Record<string, string>> {
  // The SDK checks every reference and its store before any is read; each store reads its own.
  const read = (_rest: string, where: string, reference: string) => resolveLocalSecret(reference, where, stores);
  return resolveSecretEnvInStores(secretEnv, { env: read, file: read });
}
