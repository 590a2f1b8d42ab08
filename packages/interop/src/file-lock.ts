/**
 * A lock between processes on one machine. vitest runs test files in
 * parallel worker processes, and several interop test files need the same
 * generated stubs and Go binaries: without a lock two workers would run
 * `buf generate` with `clean: true` into the same directory at once.
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { isProcessAlive } from "@flotilla/process";

/** How often a waiting process checks the lock again. */
const POLL_MS = 100;

/**
 * Runs `task` while holding the lock directory `lockDir` (created with
 * mkdir, which is atomic). A lock whose owner process has died is taken
 * over, so a killed test run does not block the next one.
 */
export async function withFileLock<T>(lockDir: string, timeoutMs: number, task: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const ownerFile = join(lockDir, "owner");
  for (;;) {
    try {
      await mkdir(lockDir);
      await writeFile(ownerFile, String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const owner = Number(await readFile(ownerFile, "utf8").catch(() => ""));
    // An empty owner file means the owner is between mkdir and writeFile.
    if (owner > 0 && !isProcessAlive(owner)) {
      await rm(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `lock ${lockDir} is still held by process ${owner || "(unknown)"} after ${timeoutMs} ms; ` +
          "if no test run is active, delete that directory",
      );
    }
    await sleep(POLL_MS);
  }
  try {
    return await task();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}
