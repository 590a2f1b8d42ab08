/**
 * The Node version the CLI needs, checked before anything else is loaded:
 * dependencies such as execa fail on old Node with an unreadable TypeError,
 * so say plainly what is needed instead. Loads nothing but this module.
 */

/** The oldest Node major version the CLI runs on. */
export const MINIMUM_NODE_MAJOR = 24;

/**
 * The message for a Node that is too old, or undefined when `version` will
 * do. Inside the repository (`checkoutRoot` set) the fix is the repository's
 * own Node; an installed CLI needs a newer Node installed.
 */
export function nodeVersionProblem(
  version: string,
  execPath: string,
  checkoutRoot: string | undefined,
): string | undefined {
  if (Number(version.split(".")[0]) >= MINIMUM_NODE_MAJOR) return undefined;
  const need = `flotilla needs Node ${MINIMUM_NODE_MAJOR} or newer, but this is Node ${version} (${execPath}).\n`;
  return checkoutRoot
    ? `${need}Run it through the project's own Node: \`npx flotilla ...\` from the repository root (${checkoutRoot}) after \`npm run setup\`, or put node_modules/.bin first on PATH.\n`
    : `${need}Install Node ${MINIMUM_NODE_MAJOR} or newer (https://nodejs.org) and run flotilla with it, e.g. with that Node's bin directory first on PATH.\n`;
}
