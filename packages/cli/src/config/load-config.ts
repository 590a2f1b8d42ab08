/**
 * Finds, reads and validates flotilla.yaml. Lookup order: an explicit path
 * (`--config`), else ./flotilla.yaml when present, else the built-in default
 * (the local provider only). A bad file gets one line per problem, each
 * naming the key path and what belongs there. A plugin's relative
 * executable path is resolved against the file's folder.
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, isAbsolute, resolve } from "node:path";
import { parseSecretReference } from "@flotilla/protocol";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import { parseDocument } from "yaml";
import { ConfigError } from "./config-error.js";
import { flotillaConfigSchema } from "./config-schema.js";
import { type FlotillaConfig, LOCAL_PROVIDER, type LoadedConfig } from "./flotilla-config.js";

/** The file name looked up in the working directory. */
export const CONFIG_FILE_NAME = "flotilla.yaml";

export { ConfigError };

/** The compiled schema, built on first use (compiling costs start-up time every command would pay). */
let compiled: ValidateFunction | undefined;
function validator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, verbose: true });
    ajv.addKeyword({ keyword: "x-expected", schemaType: "string" });
    compiled = ajv.compile(flotillaConfigSchema);
  }
  return compiled;
}

type SchemaNode = { [key: string]: unknown };

/** The schema node that describes the value at `segments` (following properties, patternProperties, items, additionalProperties). */
function schemaAt(segments: readonly string[]): SchemaNode | undefined {
  let node: SchemaNode | undefined = flotillaConfigSchema as unknown as SchemaNode;
  for (const segment of segments) {
    if (!node) return undefined;
    const properties = node.properties as Record<string, SchemaNode> | undefined;
    const patterns: Array<[string, SchemaNode]> = Object.entries(
      (node.patternProperties as Record<string, SchemaNode> | undefined) ?? {},
    );
    const byPattern: SchemaNode | undefined = patterns.find(([pattern]) => new RegExp(pattern).test(segment))?.[1];
    if (properties?.[segment]) node = properties[segment];
    else if (byPattern) node = byPattern;
    else if (/^\d+$/.test(segment) && typeof node.items === "object") node = node.items as SchemaNode;
    else if (typeof node.additionalProperties === "object") node = node.additionalProperties as SchemaNode;
    else return undefined;
  }
  return node;
}

function displayPath(segments: readonly string[]): string {
  if (segments.length === 0) return "(top level)";
  return segments.reduce((path, s) => (/^\d+$/.test(s) ? `${path}[${s}]` : path ? `${path}.${s}` : s), "");
}

/** Turns one ajv error into "path: must be <what is expected>". */
function describeError(error: ErrorObject): string {
  let segments = error.instancePath
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (error.keyword === "additionalProperties") {
    const extra = (error.params as { additionalProperty: string }).additionalProperty;
    const allowed = Object.keys((schemaAt(segments)?.properties as object | undefined) ?? {});
    return `${displayPath([...segments, extra])}: unknown key; expected one of ${allowed.join(", ")}`;
  }
  if (error.keyword === "required") {
    const missing = (error.params as { missingProperty: string }).missingProperty;
    const expected = schemaAt([...segments, missing])?.["x-expected"];
    return `${displayPath([...segments, missing])}: missing; it must be ${expected ?? "given"}`;
  }
  if (error.keyword === "propertyNames") {
    const name = (error.params as { propertyName: string }).propertyName;
    return `${displayPath([...segments, name])}: ${JSON.stringify(name)} is not a valid name; use lower case letters, digits and dashes`;
  }
  // An element of an array of scalars is reported on the array, whose description covers its elements.
  const last = segments.at(-1);
  if (last !== undefined && /^\d+$/.test(last)) {
    const parent = schemaAt(segments.slice(0, -1));
    const itemSchema = parent?.items as SchemaNode | undefined;
    if (itemSchema && itemSchema.type !== "object") segments = segments.slice(0, -1);
  }
  const expected = schemaAt(segments)?.["x-expected"];
  const got = error.data === undefined ? "" : `, got ${JSON.stringify(error.data)}`;
  return `${displayPath(segments)}: must be ${expected ?? error.message}${got}`;
}

/**
 * Every credential reference that does not follow the `secret://` grammar, as a problem naming its place.
 * Checked here rather than by a schema pattern so a plain value put there by mistake is never echoed.
 */
function credentialReferenceProblems(config: FlotillaConfig): string[] {
  const problems: string[] = [];
  for (const [name, entry] of Object.entries(config.plugins ?? {})) {
    entry.credentials?.forEach(({ reference }, index) => {
      try {
        parseSecretReference(reference, `plugins.${name}.credentials[${index}].reference`);
      } catch (error) {
        problems.push((error as Error).message);
      }
    });
  }
  return problems;
}

/**
 * Validates an already parsed config object. Throws a {@link ConfigError}
 * listing every problem, deduplicated, in document order.
 */
export function validateConfig(value: unknown, source: string): FlotillaConfig {
  const doc = value ?? {};
  const validate = validator();
  if (validate(doc)) {
    const config = doc as FlotillaConfig;
    const provider = config.default_provider;
    if (provider && provider !== LOCAL_PROVIDER && !config.plugins?.[provider]) {
      throw new ConfigError(source, [
        `default_provider: "${provider}" is not a plugin of this file; define plugins.${provider} or use one of ${[LOCAL_PROVIDER, ...Object.keys(config.plugins ?? {})].join(", ")}`,
      ]);
    }
    const badReferences = credentialReferenceProblems(config);
    if (badReferences.length > 0) throw new ConfigError(source, badReferences);
    return config;
  }
  // A bad plugin name yields the inner pattern error (carrying `propertyName`) and a
  // propertyNames error; the latter alone says it well.
  const errors = (validate.errors ?? []).filter((e) => e.propertyName === undefined);
  const problems = [...new Set(errors.map(describeError))];
  throw new ConfigError(source, problems);
}

/** Parses and validates YAML text; `source` names it in errors. */
export function parseConfig(text: string, source: string): FlotillaConfig {
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    throw new ConfigError(
      source,
      document.errors.map((e) => `YAML syntax: ${e.message.split("\n")[0]}`),
    );
  }
  return validateConfig(document.toJS(), source);
}

/**
 * Makes each plugin's relative executable path (`./plugin.sh`, `bin/aws`)
 * absolute against `configDir`, so a file names its plugins the same way
 * whichever directory flotilla runs in. A bare name (no separator) is left for
 * the PATH lookup, and arguments are left as written: only the executable is
 * known to be a path.
 */
export function resolveCommandPaths(config: FlotillaConfig, configDir: string): FlotillaConfig {
  for (const entry of Object.values(config.plugins ?? {})) {
    const executable = entry.command?.[0];
    const isPath = executable !== undefined && basename(executable) !== executable;
    if (entry.command && isPath && !isAbsolute(executable)) entry.command[0] = resolve(configDir, executable);
  }
  return config;
}

/** Reads, validates and resolves the file at the absolute `path`. */
function readConfigFile(path: string): LoadedConfig {
  return { config: resolveCommandPaths(parseConfig(readFileSync(path, "utf8"), path), dirname(path)), path };
}

/**
 * Loads the config a command uses. `explicitPath` (from --config) must
 * exist; without it ./flotilla.yaml in `cwd` is used when present, else the
 * built-in default.
 */
export function loadConfig(explicitPath: string | undefined, cwd: string = process.cwd()): LoadedConfig {
  if (explicitPath !== undefined) {
    const path = resolve(cwd, explicitPath);
    if (!existsSync(path)) {
      throw new ConfigError(path, [`the file does not exist; check the --config path (resolved from ${cwd})`]);
    }
    return readConfigFile(path);
  }
  const path = resolve(cwd, CONFIG_FILE_NAME);
  if (existsSync(path)) return readConfigFile(path);
  return { config: {}, path: undefined };
}
