/**
 * The JSON Schema of flotilla.yaml. Each node may carry `x-expected`: the
 * words an error uses to say what belongs there, so a bad file gets
 * "plugins.aws.command: must be an array of strings, ..." rather than ajv's
 * terse "must be array".
 */

const stringMap = {
  type: "object",
  additionalProperties: { type: "string" },
  "x-expected": "a map of names to string values",
} as const;

const pluginProperties = {
  command: {
    type: "array",
    minItems: 1,
    items: { type: "string", minLength: 1 },
    "x-expected": 'an array of strings: the executable and its arguments, e.g. ["node", "plugins/aws/dist/main.js"]',
  },
  args: {
    type: "array",
    items: { type: "string" },
    "x-expected": "an array of strings appended to `command`",
  },
  env: { ...stringMap, "x-expected": "a map of environment variable names to values granted to this plugin" },
  inherit_env: {
    type: "array",
    items: { type: "string", pattern: "^[A-Za-z_][A-Za-z0-9_]*$" },
    "x-expected": "an array of environment variable names passed through from the host, e.g. [AWS_PROFILE]",
  },
  checksum: {
    type: "string",
    pattern: "^sha256:[0-9a-fA-F]{64}$",
    "x-expected": 'the executable\'s SHA-256 as "sha256:" followed by 64 hex digits (sha256sum output)',
  },
  start_timeout: {
    type: "string",
    pattern: "^(\\d+(\\.\\d+)?(ms|s|m|h))+$",
    "x-expected": 'a duration such as "10s" or "500ms"',
  },
  auto_mtls: {
    type: "boolean",
    "x-expected":
      "true or false: whether host and plugin pin TLS certificates (go-plugin AutoMTLS); false for a plugin that does not do TLS",
  },
  config: {
    type: "object",
    "x-expected": "an object: the provider configuration, checked against the schema the plugin publishes",
  },
  credentials: {
    type: "array",
    "x-expected":
      'an array of {name, reference} credential references, e.g. {name: access_key_id, reference: "secret://env/AWS_ACCESS_KEY_ID"}',
    items: {
      type: "object",
      required: ["name", "reference"],
      additionalProperties: false,
      properties: { name: { type: "string", minLength: 1 }, reference: { type: "string", minLength: 1 } },
      "x-expected": "a credential reference {name, reference}",
    },
  },
} as const;

const pluginSchema = {
  type: "object",
  "x-expected": "a plugin: an object with at least `command`",
  required: ["command"],
  additionalProperties: false,
  properties: pluginProperties,
} as const;

/** `plugins.local` may leave out `command`: it then configures the built-in local provider plugin. */
const localPluginSchema = {
  type: "object",
  "x-expected": "the local provider: an object with `config` (and optionally `command` to replace the built-in plugin)",
  additionalProperties: false,
  properties: pluginProperties,
} as const;

/** JSON Schema (draft 2020-12) of flotilla.yaml. */
export const flotillaConfigSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  $id: "https://flotilla.dev/schemas/flotilla.yaml.json",
  title: "flotilla.yaml",
  type: "object",
  "x-expected": "a mapping with the keys version, default_provider, plugins, exec_environments, journal",
  additionalProperties: false,
  properties: {
    version: { const: 1, "x-expected": "1 (the only version of this file format)" },
    default_provider: {
      type: "string",
      pattern: "^[a-z0-9][a-z0-9-]{0,62}$",
      "x-expected": "the name of a plugin under `plugins` (or the built-in `local`)",
    },
    plugins: {
      type: "object",
      "x-expected": "a map of plugin names (lower case letters, digits, dashes) to plugins",
      propertyNames: {
        pattern: "^[a-z0-9][a-z0-9-]{0,62}$",
        "x-expected": "lower case letters, digits and dashes, at most 63",
      },
      patternProperties: { "^local$": localPluginSchema },
      additionalProperties: pluginSchema,
    },
    journal: {
      type: "string",
      minLength: 1,
      "x-expected":
        "a path: the job journal's SQLite file, relative to this file's folder (default $XDG_STATE_HOME/flotilla/journal.db), or a postgresql:// URL for a journal several hosts share",
    },
    // Owned by the execution environments (@flotilla/exec); only its shape is checked here.
    exec_environments: {
      type: "object",
      "x-expected": "a map of execution environment names to their settings",
      additionalProperties: { type: "object", "x-expected": "an object of execution environment settings" },
    },
  },
} as const;
