/**
 * Checks a provider configuration against the JSON Schema the plugin
 * published in its ContractRegistry, before Configure is sent, so a bad
 * config is rejected with the path of the bad key and what was expected —
 * the same message whatever the plugin's own validation would have said.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";

/** Why a config was not accepted; plugin-process.ts turns it into a PluginError of `phase`. */
export class ConfigSchemaError extends Error {
  constructor(
    message: string,
    /** "registry" when the published schema itself is broken, "configure" when the config does not match. */
    readonly phase: "registry" | "configure",
    options?: { cause: unknown },
  ) {
    super(message, options);
    this.name = "ConfigSchemaError";
  }
}

const compiled = new Map<string, ValidateFunction>();

function compile(schemaJson: string): ValidateFunction {
  let validate = compiled.get(schemaJson);
  if (validate) return validate;
  let schema: unknown;
  try {
    schema = JSON.parse(schemaJson);
  } catch (cause) {
    throw new ConfigSchemaError(
      `its registry's config_schema_json is not JSON: ${(cause as Error).message}`,
      "registry",
      {
        cause,
      },
    );
  }
  try {
    // Not strict: plugin authors may use annotations ajv does not know; they must not break the host.
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    validate = ajv.compile(schema as object);
  } catch (cause) {
    throw new ConfigSchemaError(
      `its registry's config_schema_json is not a valid JSON Schema: ${(cause as Error).message}`,
      "registry",
      { cause },
    );
  }
  compiled.set(schemaJson, validate);
  return validate;
}

function describeError(e: ErrorObject): string {
  const path = e.instancePath === "" ? "(the config itself)" : e.instancePath;
  if (e.keyword === "additionalProperties") {
    return `${path === "(the config itself)" ? "" : path}/${(e.params as { additionalProperty: string }).additionalProperty}: is not a setting this plugin knows`;
  }
  if (e.keyword === "required") {
    return `${path === "(the config itself)" ? "" : path}/${(e.params as { missingProperty: string }).missingProperty}: is required`;
  }
  return `${path}: ${e.message ?? "is invalid"}`;
}

/**
 * Throws a {@link ConfigSchemaError} listing every problem when
 * `config` does not match `schemaJson`; an empty schema accepts any object.
 * Values are never quoted, since a config may hold secrets.
 */
export function checkConfigAgainstSchema(schemaJson: string, config: unknown): void {
  if (schemaJson.trim() === "") return;
  const validate = compile(schemaJson);
  if (validate(config)) return;
  const problems = (validate.errors ?? []).map(describeError);
  throw new ConfigSchemaError(
    `its config does not match the schema it publishes:\n${problems.map((p) => `  - ${p}`).join("\n")}\nfix these keys in the plugin's config`,
    "configure",
  );
}
