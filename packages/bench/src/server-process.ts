/**
 * Entry point of the benchmark's server process, so that servers run in a
 * process of their own as a plugin does: `node server-process.js <kind>
 * <socketPath>`. Prints `ready` on stdout once listening, and exits when its
 * parent closes stdin (no orphan if the bench dies) or on SIGTERM.
 */
import { isServerKind, serverKinds } from "./server-kinds.js";

const [kind, socketPath] = process.argv.slice(2);
try {
  if (!isServerKind(kind) || socketPath === undefined) {
    throw new Error(
      `server-process: usage is "server-process.js <${Object.keys(serverKinds).join("|")}> <socketPath>", got ${JSON.stringify(process.argv.slice(2))}`,
    );
  }
  const server = await serverKinds[kind](socketPath);
  const stop = () => void server.close().finally(() => process.exit(0));
  process.stdin.on("end", stop);
  process.stdin.resume();
  process.on("SIGTERM", stop);
  process.stdout.write("ready\n");
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
