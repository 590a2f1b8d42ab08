/**
 * `npm run tarballs -- DIR [PACKAGE...]`: the published packages as the npm registry would serve them, packed
 * into DIR — those named and what they depend on, or all of them. Until Flotilla is on the registry, this is
 * how a project outside the repository installs it (docs/write-a-provider-plugin.md).
 */
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { packTarballs } from "./published-packages.ts";

const [destination, ...names] = process.argv.slice(2);
if (destination === undefined || destination.startsWith("-")) {
  process.stderr.write(
    "usage: npm run tarballs -- DIR [PACKAGE...]\n" +
      "  e.g. npm run tarballs -- /tmp/flotilla-tarballs @flotilla/cli create-flotilla-plugin\n",
  );
  process.exit(2);
}
// npm runs a script in the repository root; a relative DIR means the directory npm was started from.
const dir = resolve(process.env.INIT_CWD ?? process.cwd(), destination);
mkdirSync(dir, { recursive: true });
try {
  for (const tarball of packTarballs(dir, names)) process.stdout.write(`${tarball}\n`);
} catch (error) {
  process.stderr.write(`npm run tarballs: ${(error as Error).message}\n`);
  process.exit(1);
}
