/**
 * Reads Linux's /proc to tell whether a process, or any process of a job's
 * process group, still runs. Tests use it to prove that cancelled jobs leave
 * nothing behind.
 */
import { readdirSync, readFileSync } from "node:fs";

/** The state letter and process group of `pid` from /proc/<pid>/stat, or undefined when it is gone. */
function statOf(pid: number): { state: string; processGroup: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The fields after the command name, which is in parentheses and may hold spaces: state, ppid, pgrp, ...
    const [state = "", , processGroup] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state, processGroup: Number(processGroup) };
  } catch {
    return undefined;
  }
}

/**
 * True while `pid` exists and is not a zombie. A killed process whose parent
 * died stays in /proc as a zombie until init reaps it; it runs no code any
 * more, so it counts as gone.
 */
export function isProcessAlive(pid: number): boolean {
  const stat = statOf(pid);
  return stat !== undefined && isRunningState(stat.state);
}

function isRunningState(state: string): boolean {
  return state !== "Z" && state !== "X";
}

/** The live (non-zombie) processes of process group `processGroup`: for a job, everything it started that stayed in its group. */
export function processGroupMembers(processGroup: number): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      const stat = statOf(pid);
      return stat?.processGroup === processGroup && isRunningState(stat.state);
    });
}
