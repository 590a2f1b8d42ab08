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
const { watchAncestors } = await import("./parent-watch.js");
// Whatever started the CLI may exit without passing its signal on (npx and the shell shims
// between it and the CLI): that must not leave the CLI and its job running.
watchAncestors(() => process.kill(process.pid, "SIGTERM"));
const { runCli } = await import("./program.js");
process.exitCode = await runCli(process.argv);
