/**
 * Where the built-in local provider plugin lives: the executable that the
 * @flotilla/plugin-local package declares as its `bin`, found by package
 * resolution from this module — wherever a package manager put the two
 * packages (a workspace, npm's flat node_modules, pnpm's nested one).
 * FLOTILLA_LOCAL_PLUGIN overrides it (e.g. to try a build of one's own).
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { sourceCheckoutRoot } from "./source-checkout.js";

/** Environment variable that points at the local plugin's executable. */
export const LOCAL_PLUGIN_ENV = "FLOTILLA_LOCAL_PLUGIN";

/** The package that provides the local plugin; a dependency of this one. */
export const LOCAL_PLUGIN_PACKAGE = "@flotilla/plugin-local";

/** The name of the local plugin's executable in its package's `bin`. */
export const LOCAL_PLUGIN_BIN = "flotilla-plugin-local";

/**
 * The path of the local plugin's executable as its package declares it,
 * resolved from `from` (a module URL; default this one), or undefined when
 * the package cannot be found from there. Whether the file exists (is built)
 * is the caller's question.
 */
export function resolveLocalPlugin(from: string | URL = import.meta.url): string | undefined {
  let manifestPath: string;
  try {
    manifestPath = createRequire(from).resolve(`${LOCAL_PLUGIN_PACKAGE}/package.json`);
  } catch {
    return undefined;
  }
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { bin?: string | Record<string, string> };
  const bin = typeof manifest.bin === "string" ? manifest.bin : manifest.bin?.[LOCAL_PLUGIN_BIN];
  if (!bin) throw new Error(`${manifestPath} declares no "${LOCAL_PLUGIN_BIN}" bin`);
  return resolve(dirname(manifestPath), bin);
}

/**
 * The local plugin's executable; throws saying how to get it when missing:
 * build it when running from the repository (`findCheckout` finds its root),
 * install it otherwise.
 */
export function localPluginMain(
  env: NodeJS.ProcessEnv = process.env,
  findCheckout: () => string | undefined = sourceCheckoutRoot,
  locate: () => string | undefined = resolveLocalPlugin,
): string {
  const path = env[LOCAL_PLUGIN_ENV] || locate();
  if (path && existsSync(path)) return path;
  const checkoutRoot = findCheckout();
  const getIt = checkoutRoot
    ? path
      ? `build it (\`node scripts/bootstrap.mjs build\` in ${checkoutRoot})`
      : `install the workspace (\`node scripts/bootstrap.mjs\` in ${checkoutRoot})`
    : `install it beside the CLI (\`npm install ${LOCAL_PLUGIN_PACKAGE}\` where @flotilla/cli is installed)`;
  const where = path
    ? `is not at ${path}`
    : `(${LOCAL_PLUGIN_PACKAGE}) cannot be found from ${dirname(fileURLToPath(import.meta.url))}`;
  throw new Error(
    `the built-in local provider plugin ${where}; ${getIt} or point ${LOCAL_PLUGIN_ENV} at its executable`,
  );
}
