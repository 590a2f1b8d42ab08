/**
 * Signalling a process group, and stopping one: SIGTERM, SIGKILL after a grace period, and SIGKILL again
 * for what the leader left behind. A job or a plugin leads its own process group (spawned `detached`), so
 * that one signal reaches everything it started, not just its first process.
 */
import { checkedId, isProcessGroupAlive } from "./liveness.js";

/**
 * Sends `signal` to every process of group `pgid`. False when nothing was signalled: the group is gone
 * (ESRCH), or every process left in it belongs to another user (EPERM, e.g. a setuid program a job ran).
 * Neither throws, since callers signal from exit hooks and timers, where a throw would crash the owner.
 */
export function signalProcessGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    // A negative pid addresses the whole process group.
    process.kill(-checkedId(pgid, "pgid"), signal);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ESRCH" || code === "EPERM") return false;
    throw error;
  }
}

/** What {@link terminateProcessGroup} needs besides the group id. */
export interface TerminateOptions {
  /**
   * Settles once the group's leader has exited (for a child process: its "exit" event, or a promise of its
   * result). It decides whether SIGKILL is needed before the grace period ends, and when the leftovers go.
   */
  readonly leaderExited: Promise<unknown>;
  /** Milliseconds between SIGTERM and SIGKILL for a leader that has not exited by then. */
  readonly graceMs: number;
}

/**
 * Stops process group `pgid`: SIGTERM to the group, SIGKILL to it when the leader has not exited within
 * `graceMs`, and, once the leader has exited, SIGKILL to whatever it left in the group (a child that
 * ignores SIGTERM would otherwise outlive the job and hold its output pipes open). Resolves after that last
 * signal; never rejects on a group that is already gone.
 */
export async function terminateProcessGroup(pgid: number, options: TerminateOptions): Promise<void> {
  const leaderExited = options.leaderExited.then(
    () => "exited" as const,
    () => "exited" as const,
  );
  signalProcessGroup(pgid, "SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<"grace over">((resolve) => {
    timer = setTimeout(() => resolve("grace over"), options.graceMs);
    // The leader, while it runs, keeps its owner alive; the timer alone must not.
    timer.unref();
  });
  try {
    if ((await Promise.race([leaderExited, graceOver])) === "grace over") signalProcessGroup(pgid, "SIGKILL");
  } finally {
    clearTimeout(timer);
  }
  await leaderExited;
  signalProcessGroup(pgid, "SIGKILL");
}

/** What {@link stopGroupLeftovers} needs besides the group id. */
export interface LeftoverStopOptions {
  /** Milliseconds between SIGTERM and SIGKILL for members still in the group. */
  readonly graceMs: number;
  /** Milliseconds between checks whether the group is empty yet; default 50. */
  readonly pollMs?: number;
}

/**
 * Stops what a leader that has exited on its own left in its process group: SIGTERM to the group, then
 * SIGKILL once `graceMs` has passed with any member left. It is how a job ends when its main process ends
 * (as a container ends when its PID 1 exits): a background child still holding the job's output would
 * otherwise keep the job running as long as it likes, yet it gets the same grace to clean up as a cancelled
 * job. Resolves as soon as the group is empty (at once for a group with nothing left), or after the SIGKILL;
 * never rejects. A member that exited but was not reaped yet (a zombie) still counts, so where nobody reaps
 * orphans the grace runs out in full.
 */
export async function stopGroupLeftovers(pgid: number, options: LeftoverStopOptions): Promise<void> {
  if (!signalProcessGroup(pgid, "SIGTERM")) return;
  const deadline = Date.now() + options.graceMs;
  const pollMs = options.pollMs ?? 50;
  while (isProcessGroupAlive(pgid)) {
    const left = deadline - Date.now();
    if (left <= 0) {
      signalProcessGroup(pgid, "SIGKILL");
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, left)));
  }
}
