#!/usr/bin/env node
// The `flotilla` launcher: the `bin` of @flotilla/cli.
//
// A committed file rather than the build output because pnpm links bins at
// install time, before anything is built, and skips a bin whose file does not
// exist yet — a bin pointing into dist/ would be missing on every fresh clone.
// It checks what it can without dependencies, then loads the built CLI. Its messages must help both an
// installed user and a source checkout: an installed package always ships dist/, so only a checkout can
// be "not built".
import { existsSync } from "node:fs";

const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  process.stderr.write(
    `flotilla needs Node 24 or newer, but this is Node ${process.versions.node} (${process.execPath}).\n` +
      "Install Node 24 or newer and run it again. (In a Flotilla source checkout, `npx flotilla ...` from the\n" +
      "repository root runs it on the project's own Node 24 after `npm run setup`.)\n",
  );
  process.exit(2);
}
const cli = new URL("../dist/main.js", import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    "flotilla is not built yet: this is a source checkout of @flotilla/cli without its dist/; run\n" +
      "`node scripts/bootstrap.mjs build` (or `npm start`) from the repository root.\n",
  );
  process.exit(2);
}
// Compiled modules come from Node's cache after the first start (@flotilla/process says where and why).
const { enableModuleCompileCache } = await import("@flotilla/process");
enableModuleCompileCache();
await import(cli.href);
