/**
 * Finds processes by an argument on their command line, by reading /proc.
 * The interop tests give every plugin they start a unique marker argument,
 * so "no process carries the marker" proves that nothing was left behind,
 * whichever host (Go or TypeScript) started it.
 */
import { readdir, readFile } from "node:fs/promises";

/** Pids of live (non-zombie) processes whose argv contains `marker` exactly. */
export async function processesWithArgument(marker: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = (await readFile(`/proc/${entry}/cmdline`, "utf8")).split("\0");
      if (!argv.includes(marker)) continue;
      // Field 3 of /proc/PID/stat is the state; after the ")" ending the name.
      const stat = await readFile(`/proc/${entry}/stat`, "utf8");
      const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
      if (state !== "Z") pids.push(Number(entry));
    } catch {
      // The process exited while we looked.
    }
  }
  return pids;
}

/** SIGKILLs every process carrying `marker`; for afterEach clean-up after a failed test. */
export async function killProcessesWithArgument(marker: string): Promise<void> {
  for (const pid of await processesWithArgument(marker)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}
