/**
 * Reads Linux's /proc to tell whether a process still runs. Tests use it to
 * prove that cancelled jobs leave nothing behind.
 */
import { readFileSync } from "node:fs";

/**
 * True while `pid` exists and is not a zombie. A killed process whose parent
 * died stays in /proc as a zombie until init reaps it; it runs no code any
 * more, so it counts as gone.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The state letter follows the command name, which is in parentheses and may hold spaces.
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}
