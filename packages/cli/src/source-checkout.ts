/**
 * Whether this CLI runs from the Flotilla source repository or from an
 * installed package. Advice such as `node scripts/bootstrap.mjs build` only
 * works in the repository; an installed user needs advice that works for
 * them. Loads only Node built-ins, so it can run before the Node version
 * check has passed.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The repository root when `moduleUrl` (a module in packages/cli/{src,dist})
 * lies in a Flotilla checkout, else undefined. An installed package's
 * ../../.. is a node_modules folder, which has neither marker.
 */
export function sourceCheckoutRoot(moduleUrl: string | URL = import.meta.url): string | undefined {
  const root = resolve(fileURLToPath(new URL("../../../", moduleUrl)));
  const isCheckout =
    existsSync(join(root, "pnpm-workspace.yaml")) && existsSync(join(root, "scripts", "bootstrap.mjs"));
  return isCheckout ? root : undefined;
}
