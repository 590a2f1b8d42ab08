/**
 * Who holds a job's lease in the journal: one name per tracker, made of the
 * machine's host name, the process id and a random part
 * (`build-7/41873/5f0c2a9e`), so a tracker on the same machine can tell a
 * holder that died (its process is gone) from one that is merely slow, and
 * take its jobs over at once instead of waiting for its lease to expire.
 * A holder on another machine, or a name not of this form, is never judged
 * dead: only its lease's expiry frees its jobs.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { isProcessAlive } from "@flotilla/process";

/** A new owner name for a tracker in this process. */
export function newLeaseOwner(): string {
  return `${hostname()}/${process.pid}/${randomBytes(4).toString("hex")}`;
}

/**
 * True when `owner` names a process of this machine that no longer exists. A reused pid reads as alive,
 * which only delays a takeover until the lease expires; a live holder is never taken for dead.
 */
export function isLeaseOwnerGone(owner: string, isAlive: (pid: number) => boolean = isProcessAlive): boolean {
  const match = /^(.+)\/(\d+)\/[0-9a-f]+$/.exec(owner);
  if (!match || match[1] !== hostname()) return false;
  const pid = Number(match[2]);
  return pid !== process.pid && !isAlive(pid);
}
