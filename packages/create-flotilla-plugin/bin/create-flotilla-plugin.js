#!/usr/bin/env node
// The `create-flotilla-plugin` executable: the `bin` of create-flotilla-plugin, what
// `npm create flotilla-plugin NAME` runs.
//
// A committed file rather than the build output because pnpm links bins at install time, before anything
// is built. It checks the Node version without dependencies (the project it writes needs Node 24), then
// loads the built command.
import { existsSync } from "node:fs";

const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  process.stderr.write(
    `create-flotilla-plugin: the plugin project it writes needs Node 24 or newer, but this is Node ${process.versions.node}.\n` +
      "Install Node 24 or newer and run it again.\n",
  );
  process.exit(2);
}
const main = new URL("../dist/main.js", import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    "create-flotilla-plugin is not built yet: run `node scripts/bootstrap.mjs build` from the repository root.\n",
  );
  process.exit(2);
}
await import(main.href);
