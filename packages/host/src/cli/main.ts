#!/usr/bin/env node
/**
 * The `flotilla` executable (the `bin` of @flotilla/host).
 *
 * The version check runs before anything else is loaded: dependencies such
 * as execa fail on old Node with an unreadable TypeError, so say plainly
 * what is needed instead.
 */
const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  process.stderr.write(
    `flotilla needs Node 24 or newer, but this is Node ${process.versions.node} (${process.execPath}).\n` +
      "Run it through the project's own Node: `npx flotilla ...` from the repository root after `npm run setup`, " +
      "or put node_modules/.bin first on PATH.\n",
  );
  process.exit(2);
}
const { watchParent } = await import("./parent-watch.js");
// A parent that exits without passing its signal on (pnpm's shell shim in
// front of `npx flotilla`) must not leave the CLI and its job running.
watchParent(() => process.kill(process.pid, "SIGTERM"));
const { runCli } = await import("./program.js");
process.exitCode = await runCli(process.argv);
