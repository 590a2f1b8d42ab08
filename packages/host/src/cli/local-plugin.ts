/**
 * Where the built-in local provider plugin lives. It is a separate package
 * (@flotilla/plugin-local) that depends on this one for its tests, so this
 * package cannot depend on it back; in the workspace, and when both packages
 * are installed under node_modules/@flotilla, its built entry point sits
 * beside this package's. FLOTILLA_LOCAL_PLUGIN overrides the path (for
 * installs where the two packages are not siblings).
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { sourceCheckoutRoot } from "./source-checkout.js";

/** Environment variable that points at the local plugin's main.js. */
export const LOCAL_PLUGIN_ENV = "FLOTILLA_LOCAL_PLUGIN";

/**
 * The local plugin's entry point; throws saying how to get it when missing:
 * build it when running from the repository (`findCheckout` finds its root),
 * install it otherwise.
 */
export function localPluginMain(
  env: NodeJS.ProcessEnv = process.env,
  findCheckout: () => string | undefined = sourceCheckoutRoot,
): string {
  const override = env[LOCAL_PLUGIN_ENV];
  // From packages/host/dist/cli/ (or src/cli/ under vitest) to packages/plugin-local/dist/main.js.
  const path = override || fileURLToPath(new URL("../../../plugin-local/dist/main.js", import.meta.url));
  if (!existsSync(path)) {
    const checkoutRoot = findCheckout();
    const getIt = checkoutRoot
      ? `build it (\`node scripts/bootstrap.mjs build\` in ${checkoutRoot})`
      : "install it beside the CLI (`npm install @flotilla/plugin-local` where @flotilla/host is installed)";
    throw new Error(
      `the built-in local provider plugin is not at ${path}; ${getIt} or point ${LOCAL_PLUGIN_ENV} at its dist/main.js`,
    );
  }
  return path;
}
