import { parseSecretReference } from "@flotilla/protocol";

/**
 * `KEY=VALUE` pairs from repeated CLI options (`-e`, `--secret`).
 */

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Commander "collect" parser: adds one `KEY=VALUE` to the map. The error
 * names the option and the form; a value is never echoed (it may be a secret).
 */
export function collectKeyValue(option: string) {
  return (text: string, previous: Record<string, string> = {}): Record<string, string> => {
    const eq = text.indexOf("=");
    const key = eq < 0 ? text : text.slice(0, eq);
    if (eq < 0 || !NAME.test(key)) {
      throw new RangeError(
        `${option} ${JSON.stringify(key)}: expected KEY=VALUE with KEY made of letters, digits and _ (e.g. ${option} LOG_LEVEL=debug)`,
      );
    }
    return { ...previous, [key]: text.slice(eq + 1) };
  };
}

/** Checks that every `--secret` value is a reference, never a value; the error names the key only. */
export function checkSecretRefs(secrets: Record<string, string>): void {
  for (const [key, reference] of Object.entries(secrets)) parseSecretReference(reference, `--secret ${key}`);
}
