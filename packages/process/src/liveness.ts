/**
 * Whether a process, or a process group, still exists: the one probe every package uses, defined as
 * go-plugin's internal/cmdrunner defines it. Signal 0 is checked and delivered by the kernel like any
 * signal but does nothing, so `kill(pid, 0)` asks "could this pid be signalled?": ESRCH means no such
 * process, and EPERM means there is one that belongs to someone else — alive, not gone.
 *
 * A zombie (exited, not yet reaped by its parent) still has its pid, so it counts as alive here; it is
 * gone once its parent, or init, reaps it.
 */

/** True while process `pid` exists (EPERM, a process of another user, counts as existing). */
export function isProcessAlive(pid: number): boolean {
  return probe(checkedId(pid, "pid"));
}

/** True while process group `pgid` has a member (a group outlives its leader while any member is left). */
export function isProcessGroupAlive(pgid: number): boolean {
  // A negative pid addresses the process group.
  return probe(-checkedId(pgid, "pgid"));
}

function probe(target: number): boolean {
  try {
    process.kill(target, 0);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ESRCH") return false;
    if (code === "EPERM") return true;
    throw error;
  }
}

/**
 * 0, -1 and negative ids mean "my group", "every process" and "a group" to kill(2): a probe of such an id
 * would answer a different question, and a signal sent to it would reach processes nobody meant.
 */
export function checkedId(id: number, what: "pid" | "pgid"): number {
  if (!Number.isSafeInteger(id) || id <= 0) {
    throw new RangeError(`${what} must be a positive integer, got ${id}`);
  }
  return id;
}
