/**
 * Notices when whatever started the CLI goes away, however many wrappers
 * stand between.
 *
 * Why: `npx flotilla` runs through npx, a shell shim for the bin and pnpm's
 * shell shim for the `node` package (node_modules/.bin/node), each starting
 * the next as a child instead of exec-ing it. A SIGTERM sent to what the
 * caller believes is flotilla (a supervisor, `timeout`, a CI cancel) kills
 * only the outermost of them; the shims in between stay alive, so the CLI's
 * own parent never changes and the CLI would run on with its job. Watching
 * every ancestor, not only the parent, catches the one that was stopped.
 */
import { readFileSync } from "node:fs";

/** A process as /proc identifies it: its pid and its start time, so a reused pid is not taken for it. */
export interface ProcessIdentity {
  readonly pid: number;
  /** Field 22 of /proc/PID/stat: clock ticks after boot at which the process started. */
  readonly startTime: string;
}

/** What the watch reads: the identities of this process's ancestors, and whether one still runs. */
export interface AncestryProbe {
  /** Ancestors from the parent outwards, stopping before init (pid 1); empty where /proc is not available. */
  ancestors(): ProcessIdentity[];
  /** True while the process is running (not exited, and its pid not reused). */
  isRunning(identity: ProcessIdentity): boolean;
  /** This process's current parent pid; the fallback where /proc is not available. */
  parentPid(): number;
}

/** pid, parent pid and start time from /proc/PID/stat, or undefined when there is no such process. */
function readStat(pid: number): { ppid: number; startTime: string } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces; the fields after it are plain.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  if (state === "Z" || state === "X") return undefined;
  return { ppid: Number(fields[1]), startTime: fields[19] ?? "" };
}

/** The probe over /proc (Linux), falling back to process.ppid elsewhere. */
export const procAncestry: AncestryProbe = {
  ancestors() {
    const chain: ProcessIdentity[] = [];
    let pid = readStat(process.pid)?.ppid ?? 0;
    // A chain of wrappers is short; the bound guards against a loop in a /proc read mid-change.
    while (pid > 1 && chain.length < 64) {
      const stat = readStat(pid);
      if (!stat) break;
      chain.push({ pid, startTime: stat.startTime });
      pid = stat.ppid;
    }
    return chain;
  },
  isRunning(identity) {
    return readStat(identity.pid)?.startTime === identity.startTime;
  },
  parentPid: () => process.ppid,
};

/**
 * Calls `onGone` once when any ancestor of this process has exited (or, where
 * /proc is not available, when the parent changed). Returns a function that
 * stops watching. Does nothing when the parent is already init: then there is
 * no one to lose. The timer is unref'd so it never keeps the CLI alive.
 */
export function watchAncestors(onGone: () => void, intervalMs = 250, probe: AncestryProbe = procAncestry): () => void {
  const parent = probe.parentPid();
  if (parent <= 1) return () => {};
  const ancestors = probe.ancestors();
  const timer = setInterval(() => {
    const gone =
      ancestors.length > 0 ? ancestors.some((ancestor) => !probe.isRunning(ancestor)) : probe.parentPid() !== parent;
    if (!gone) return;
    clearInterval(timer);
    onGone();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
