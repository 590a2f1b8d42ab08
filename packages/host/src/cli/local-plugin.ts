/**
 * Where the built-in local provider plugin lives. It is a separate package
 * (@flotilla/plugin-local) that depends on this one for its tests, so this
 * package cannot depend on it back; in the workspace its built entry point
 * sits beside this package's. FLOTILLA_LOCAL_PLUGIN overrides the path (for
 * installs where the two packages are not siblings).
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Environment variable that points at the local plugin's main.js. */
export const LOCAL_PLUGIN_ENV = "FLOTILLA_LOCAL_PLUGIN";

/** The local plugin's entry point; throws saying how to build it when missing. */
export function localPluginMain(env: NodeJS.ProcessEnv = process.env): string {
  const override = env[LOCAL_PLUGIN_ENV];
  // From packages/host/dist/cli/ (or src/cli/ under vitest) to packages/plugin-local/dist/main.js.
  const path = override || fileURLToPath(new URL("../../../plugin-local/dist/main.js", import.meta.url));
  if (!existsSync(path)) {
    throw new Error(
      `the built-in local provider plugin is not at ${path}; build it (\`node scripts/bootstrap.mjs build\` from the repository root) or point ${LOCAL_PLUGIN_ENV} at its dist/main.js`,
    );
  }
  return path;
}
