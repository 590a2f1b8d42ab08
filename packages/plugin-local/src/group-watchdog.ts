/**
 * Kills the process groups of running jobs when the plugin dies in a way
 * that runs no exit hook (SIGKILL, the OOM killer). Jobs lead their own
 * process groups (so cancel reaches their children), which also puts them
 * out of reach of a host that kills the plugin's group; this watchdog closes
 * that gap.
 *
 * It is one `/bin/sh` in its own session that reads "add PGID" and "del
 * PGID" lines from a pipe the plugin holds. The pipe closes when the plugin
 * process ends, however it ends; the shell then sends SIGTERM and, a second
 * later, SIGKILL to every group still registered, and exits.
 */
import { type ChildProcess, spawn } from "node:child_process";

const WATCHDOG_SCRIPT = `
live=""
while read -r op id; do
  case "$id" in ''|*[!0-9]*) continue ;; esac
  case "$op" in
    add) live="$live $id" ;;
    del) rest=""; for g in $live; do [ "$g" = "$id" ] || rest="$rest $g"; done; live="$rest" ;;
  esac
done
[ -z "$live" ] && exit 0
for g in $live; do kill -TERM "-$g" 2>/dev/null; done
sleep 1
for g in $live; do kill -KILL "-$g" 2>/dev/null; done
`;

/** Registers job process groups with the watchdog, started on first use. */
export class GroupWatchdog {
  private child: ChildProcess | undefined;

  /** Kill group `pgid` if the plugin dies. */
  add(pgid: number): void {
    this.send(`add ${pgid}\n`);
  }

  /** Group `pgid` is over; forget it (its id may be reused). */
  remove(pgid: number): void {
    if (this.child) this.send(`del ${pgid}\n`);
  }

  /** The watchdog's own pid, once started (for tests). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  private send(line: string): void {
    if (process.platform === "win32") return;
    if (!this.child) {
      this.child = spawn("/bin/sh", ["-c", WATCHDOG_SCRIPT], {
        // Its own session: a host that kills the plugin's process group must not kill the watchdog with it.
        detached: true,
        stdio: ["pipe", "ignore", "ignore"],
      });
      this.child.on("error", () => {});
      this.child.stdin?.on("error", () => {});
      // Neither the watchdog nor its pipe may keep the plugin alive.
      this.child.unref();
      (this.child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    }
    this.child.stdin?.write(line);
  }
}
