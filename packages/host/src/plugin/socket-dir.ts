/**
 * A short, private directory for plugins' Unix sockets. Unix socket paths are
 * limited to about 108 bytes, so a long TMPDIR (macOS, CI runners) would break
 * them; the directory is made under /tmp whatever TMPDIR says.
 */
import { mkdtempSync, rmSync } from "node:fs";

/** Creates `/tmp/fl-XXXXXX` (mode 0700) and returns its path. */
export function createSocketDir(): string {
  const base = process.platform === "win32" ? (process.env.TEMP ?? ".") : "/tmp";
  return mkdtempSync(`${base}/fl-`);
}

/** Removes a directory made by {@link createSocketDir}; never throws. */
export function removeSocketDir(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // Best effort: a leftover empty dir in /tmp is harmless.
  }
}
