#!/usr/bin/env node
// The `flotilla-plugin-local` executable: the `bin` of @flotilla/plugin-local,
// what a host starts (the flotilla CLI finds it through this package's bin).
//
// A committed file rather than the build output because pnpm links bins at
// install time, before anything is built, and warns about a bin whose file
// does not exist yet — a bin pointing into dist/ would be missing on every
// fresh clone. It loads the built plugin, which then runs in this process: the
// bundle (scripts/bundle.ts, one module graph that loads far faster than dist/'s
// files across packages), built with dist/ by `npm run build`.
import { existsSync } from "node:fs";

const main = new URL("../bundle/main.js", import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    "flotilla-plugin-local is not built yet: run `node scripts/bootstrap.mjs build` from the repository root.\n",
  );
  process.exit(2);
}
// Compiled modules come from Node's cache after the first start (@flotilla/process says where and why).
const { enableModuleCompileCache } = await import("@flotilla/process");
enableModuleCompileCache();
await import(main.href);
