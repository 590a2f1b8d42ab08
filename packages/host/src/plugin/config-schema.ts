/**
 * Checks a provider configuration against the JSON Schema the plugin
 * published in its ContractRegistry, before Configure is sent, so a bad
 * config is rejected with the path of the bad key and what was expected —
 * the same message whatever the plugin's own validation would have said.
 */
import { checkAgainstSchema, type SchemaNode, type SchemaProblem } from "@flotilla/protocol";

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

/** The published schema, parsed once per distinct text. */
const parsedSchemas = new Map<string, SchemaNode>();

function parseSchema(schemaJson: string): SchemaNode {
  let schema = parsedSchemas.get(schemaJson);
  if (schema) return schema;
  try {
    schema = JSON.parse(schemaJson) as SchemaNode;
  } catch (cause) {
    throw new ConfigSchemaError(
      `its registry's config_schema_json is not JSON: ${(cause as Error).message}`,
      "registry",
      {
        cause,
      },
    );
  }
  parsedSchemas.set(schemaJson, schema);
  return schema;
}

/**
 * Throws a {@link ConfigSchemaError} listing every problem when `config` does not match
 * `schemaJson`, in the words a plugin checking its own config would use (`checkAgainstSchema`
 * of @flotilla/protocol); an empty schema accepts any object. Values are never quoted, since a
 * config may hold secrets.
 */
export function checkConfigAgainstSchema(schemaJson: string, config: unknown): void {
  if (schemaJson.trim() === "") return;
  const schema = parseSchema(schemaJson);
  let problems: SchemaProblem[];
  try {
    problems = checkAgainstSchema(config, schema);
  } catch (cause) {
    throw new ConfigSchemaError(
      `its registry's config_schema_json is not a valid JSON Schema: ${(cause as Error).message}`,
      "registry",
      { cause },
    );
  }
  if (problems.length === 0) return;
  throw new ConfigSchemaError(
    `its config does not match the schema it publishes:\n${problems.map((p) => `  - ${p.key}: ${p.reason}`).join("\n")}\nfix these keys in the plugin's config`,
    "configure",
  );
}
