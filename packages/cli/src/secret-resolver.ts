/**
 * Resolves `secret://` references on this machine, for execution
 * environments whose command runs here (`local`, `local-docker`): the same
 * two stores as the local provider plugin, read from the CLI's environment.
 * - `secret://env/NAME` — environment variable NAME of the flotilla process.
 * - `secret://file/NAME` — file NAME in $FLOTILLA_SECRETS_DIR (default
 *   /run/secrets), one trailing newline removed.
 * Errors name the reference, never a value.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";

/** Environment variable naming the directory `secret://file/NAME` reads from. */
export const SECRETS_DIR_ENV = "FLOTILLA_SECRETS_DIR";

/** A resolver over `env` (normally process.env). */
export function localSecretResolver(env: NodeJS.ProcessEnv = process.env) {
  return async (reference: string): Promise<string> => {
    const match = /^secret:\/\/(env|file)\/([-._a-zA-Z0-9]+)$/.exec(reference);
    if (!match) {
      throw new RangeError(
        `${reference}: this machine resolves only secret://env/NAME and secret://file/NAME; other stores resolve where the job runs (kubernetes, provider plugins)`,
      );
    }
    const [, store, key] = match as unknown as [string, "env" | "file", string];
    if (store === "env") {
      const value = env[key];
      if (value === undefined) throw new RangeError(`${reference}: environment variable ${key} is not set`);
      return value;
    }
    if (key === "." || key === "..") throw new RangeError(`${reference}: must name a file, not a directory`);
    const dir = env[SECRETS_DIR_ENV] || "/run/secrets";
    try {
      const text = await readFile(join(dir, key), "utf8");
      return text.replace(/\r?\n$/, "");
    } catch (err) {
      throw new RangeError(
        `${reference}: cannot read ${join(dir, key)} (${(err as NodeJS.ErrnoException).code ?? "error"})`,
      );
    }
  };
}
