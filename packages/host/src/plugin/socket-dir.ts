/**
 * A short, private directory for plugins' Unix sockets. Unix socket paths are
 * limited to about 108 bytes, so a long TMPDIR (macOS, CI runners) would break
 * them; the directory is made under /tmp whatever TMPDIR says.
 *
 * A host removes its directory when it stops, but a host killed with SIGKILL
 * cannot: its name therefore carries the owning host's pid
 * (`/tmp/fl-<pid>-XXXXXX`), and the next host to create one removes the
 * directories whose owner is gone.
 */
import { lstatSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { isProcessAlive } from "@flotilla/process";

/** `fl-<owner pid>-<6 random characters from mkdtemp>`. */
const SOCKET_DIR_NAME = /^fl-([1-9]\d{0,9})-[A-Za-z0-9]{6}$/;

/** Where socket directories are made: /tmp, short whatever TMPDIR says. */
export function socketDirBase(): string {
  return process.platform === "win32" ? (process.env.TEMP ?? ".") : "/tmp";
}

/**
 * Creates `/tmp/fl-<pid>-XXXXXX` (mode 0700) and returns its path, after
 * removing the stale directories of hosts that are gone
 * ({@link removeStaleSocketDirs}).
 */
export function createSocketDir(): string {
  const base = socketDirBase();
  removeStaleSocketDirs(base);
  return mkdtempSync(join(base, `fl-${process.pid}-`));
}

/** Removes a directory made by {@link createSocketDir}; never throws. */
export function removeSocketDir(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // Best effort: the next host to start removes it once this process is gone.
  }
}

/**
 * Removes the socket directories in `base` left by hosts that died without
 * removing them: only directories (never a symlink) named by
 * {@link createSocketDir}, owned by this user, whose owning pid no longer
 * exists. A live host's directory is never touched: its pid exists. A pid
 * reused by another process keeps a stale directory until that process ends,
 * which errs on the safe side. Never throws; returns the paths removed.
 */
export function removeStaleSocketDirs(base: string = socketDirBase()): string[] {
  const uid = process.getuid?.();
  // Without user ids (Windows) "belongs to this user" cannot be checked: remove nothing.
  if (uid === undefined) return [];
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const owner = SOCKET_DIR_NAME.exec(name)?.[1];
    if (owner === undefined || isProcessAlive(Number(owner))) continue;
    const path = join(base, name);
    try {
      const stat = lstatSync(path);
      if (!stat.isDirectory() || stat.uid !== uid) continue;
      rmSync(path, { recursive: true, force: true });
      removed.push(path);
    } catch {
      // Gone meanwhile (another host swept it), or not ours to remove: either way, not our business.
    }
  }
  return removed;
}
