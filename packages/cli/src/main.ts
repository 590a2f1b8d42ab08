#!/usr/bin/env node
/**
 * The `flotilla` executable (the `bin` of @flotilla/cli).
 *
 * The two static imports load only Node built-ins, so the version check
 * runs before any dependency that would fail on old Node.
 */
import { nodeVersionProblem } from "./node-version.js";
import { sourceCheckoutRoot } from "./source-checkout.js";

const versionProblem = nodeVersionProblem(process.versions.node, process.execPath, sourceCheckoutRoot());
if (versionProblem) {
  process.stderr.write(versionProblem);
  process.exit(2);
}
const { exitQuietlyOnClosedPipe } = await import("./closed-pipe.js");
exitQuietlyOnClosedPipe([process.stdout, process.stderr]);
const { watchParent } = await import("./parent-watch.js");
// A parent that exits without passing its signal on (pnpm's shell shim in
// front of `npx flotilla`) must not leave the CLI and its job running.
watchParent(() => process.kill(process.pid, "SIGTERM"));
const { runCli } = await import("./program.js");
process.exitCode = await runCli(process.argv);
