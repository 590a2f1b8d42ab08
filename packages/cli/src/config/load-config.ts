/**
 * Finds, reads and validates flotilla.yaml. Lookup order: an explicit path
 * (`--config`), else ./flotilla.yaml when present, else the built-in default
 * (the local provider only). A bad file gets one line per problem, each
 * naming the key path and what belongs there. A plugin's relative
 * executable path is resolved against the file's folder.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, isAbsolute, resolve } from "node:path";
import { checkAgainstSchema, parseSecretReference, type SchemaNode } from "@flotilla/protocol";
import type { Document, Pair } from "yaml";
import { ConfigError } from "./config-error.js";

import { flotillaConfigSchema } from "./config-schema.js";
import { type FlotillaConfig, isPostgresUrl, LOCAL_PROVIDER, type LoadedConfig } from "./flotilla-config.js";

/** The file name looked up in the working directory. */
export const CONFIG_FILE_NAME = "flotilla.yaml";

export { ConfigError };

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
  const problems = checkAgainstSchema(doc, flotillaConfigSchema as unknown as SchemaNode);
  if (problems.length > 0)
    throw new ConfigError(
      source,
      problems.map(({ key, reason }) => `${key}: ${reason}`),
    );
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

/**
 * The yaml library, loaded when a file is parsed: some seventy modules that a command without a
 * flotilla.yaml (the common `flotilla run`) never needs.
 */
function yamlLibrary(): typeof import("yaml") {
  return createRequire(import.meta.url)("yaml") as typeof import("yaml");
}

/** Parses and validates YAML text; `source` names it in errors. */
export function parseConfig(text: string, source: string): FlotillaConfig {
  const { parseDocument } = yamlLibrary();
  // The yaml library's own duplicate-key check compares every key with every other one of its map:
  // minutes for a file with tens of thousands of keys. duplicateKeys does it in one pass.
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: false });
  if (document.errors.length > 0) {
    throw new ConfigError(
      source,
      document.errors.map((e) => `YAML syntax: ${e.message.split("\n")[0]}`),
    );
  }
  const duplicates = duplicateKeys(document);
  if (duplicates.length > 0) throw new ConfigError(source, duplicates);
  return validateConfig(document.toJS(), source);
}

/** Every key given twice in one mapping, as a problem naming its path. */
function duplicateKeys(document: Document): string[] {
  const { isPair, isScalar, visit } = yamlLibrary();
  const problems: string[] = [];
  visit(document, {
    Map(_key, map, path) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        if (!seen.has(key)) {
          seen.add(key);
          continue;
        }
        const where = path
          .filter((node): node is Pair => isPair(node))
          .map((node) => String(isScalar(node.key) ? node.key.value : node.key));
        problems.push(`${[...where, String(key)].join(".")}: the key is given twice; keep one`);
      }
    },
  });
  return problems;
}

/**
 * Makes each plugin's relative executable path (`./plugin.sh`, `bin/aws`)
 * absolute against `configDir`, so a file names its plugins the same way
 * whichever directory flotilla runs in. A bare name (no separator) is left for
 * the PATH lookup, and arguments are left as written: only the executable is
 * known to be a path. A `journal` path is made absolute the same way.
 */
export function resolveCommandPaths(config: FlotillaConfig, configDir: string): FlotillaConfig {
  for (const entry of Object.values(config.plugins ?? {})) {
    const executable = entry.command?.[0];
    const isPath = executable !== undefined && basename(executable) !== executable;
    if (entry.command && isPath && !isAbsolute(executable)) entry.command[0] = resolve(configDir, executable);
  }
  // A journal path is beside the file (`journal: jobs.db`), wherever flotilla runs; a PostgreSQL URL is left as is.
  if (config.journal !== undefined && !isPostgresUrl(config.journal))
    config.journal = resolve(configDir, config.journal);
  return config;
}

/**
 * The largest flotilla.yaml read: a hand-written config is a few kilobytes; anything near this
 * is a mistake (a generated or wrong file), refused before parsing costs time and memory.
 */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** Reads, validates and resolves the file at the absolute `path`. */
function readConfigFile(path: string): LoadedConfig {
  let text: string;
  try {
    const stats = statSync(path);
    const size = stats.size;
    if (stats.isDirectory()) {
      throw new ConfigError(path, ["is a directory, not a file; point --config at the flotilla.yaml inside it"]);
    }
    if (size > MAX_CONFIG_BYTES) {
      throw new ConfigError(path, [
        `is ${size} bytes, more than the ${MAX_CONFIG_BYTES} bytes (1 MiB) a Flotilla config may have; check that --config names the right file`,
      ]);
    }
    text = readFileSync(path, "utf8");
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    throw new ConfigError(path, [`cannot be read (${code}); check that the file exists and that you may read it`]);
  }
  return { config: resolveCommandPaths(parseConfig(text, path), dirname(path)), path };
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
