/**
 * Reads Linux's /proc to find a process's descendants and whether a process
 * still runs. The CLI's tests use it to prove that Ctrl-C leaves nothing
 * behind.
 */
import { readdirSync, readFileSync } from "node:fs";

function statFields(pid: number): { state: string; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name is in parentheses and may contain spaces; fields after it are plain.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state: rest[0] ?? "?", ppid: Number(rest[1]) };
  } catch {
    return undefined;
  }
}

/** True while `pid` exists and is not a zombie (a zombie runs no code; it only waits to be reaped). */
export function isProcessAlive(pid: number): boolean {
  const stat = statFields(pid);
  return stat !== undefined && stat.state !== "Z" && stat.state !== "X";
}

/** Every live process whose parent chain leads to `pid`, at this moment. */
export function descendantsOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = statFields(Number(entry));
    if (!stat || stat.state === "Z") continue;
    const siblings = children.get(stat.ppid) ?? [];
    siblings.push(Number(entry));
    children.set(stat.ppid, siblings);
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift() as number) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}
