/**
 * Node's on-disk cache of compiled modules (`module.enableCompileCache`, Node ≥ 22.1) for a Flotilla
 * executable: a CLI command or a plugin compiles the same few hundred modules at every start, and reading
 * their compiled code back instead cuts a fifth to a third of its start-up CPU (docs/benchmarks.md).
 *
 * Call it before the executable's own modules load — from its bin file, ahead of a dynamic import — since
 * an ES module graph is compiled before any of it runs.
 *
 * The cache lives in the user's own cache directory, not in the system temporary directory Node picks by
 * default: a cache that another user of the machine can write is code that user could have run in our
 * processes. `NODE_DISABLE_COMPILE_CACHE=1` turns it off, as it does for Node.
 */
import * as nodeModule from "node:module";
import { homedir } from "node:os";
import { join } from "node:path";

/** Where the cache goes for this environment: `$XDG_CACHE_HOME/flotilla/node-compile-cache`, else under `~/.cache`. */
export function compileCacheDirectory(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "flotilla", "node-compile-cache");
}

/**
 * Turns the cache on for this process; returns the directory in use (Node's folder for its version and flags
 * inside {@link compileCacheDirectory}), or undefined when it stays off (turned
 * off by the environment, a Node without it, or a directory that cannot be created — the executable then
 * simply compiles as before).
 */
export function enableModuleCompileCache(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  const { enableCompileCache, getCompileCacheDir } = nodeModule as Partial<{
    enableCompileCache: (directory?: string) => unknown;
    getCompileCacheDir: () => string | undefined;
  }>;
  if (!enableCompileCache || !getCompileCacheDir) return undefined;
  try {
    enableCompileCache(compileCacheDirectory(env));
  } catch {
    return undefined;
  }
  return getCompileCacheDir();
}
