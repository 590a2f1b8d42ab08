/**
 * Short-lived directories for the benchmark's Unix sockets. They live under
 * /tmp rather than $TMPDIR because a socket path is limited to about 108
 * bytes and a long TMPDIR would break it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";

/** A fresh directory for sockets and the function that removes it. */
export function createSocketDir(): { readonly dir: string; socketPath(name: string): string; remove(): void } {
  const dir = mkdtempSync("/tmp/flb-");
  return {
    dir,
    socketPath: (name) => join(dir, `${name}.sock`),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
