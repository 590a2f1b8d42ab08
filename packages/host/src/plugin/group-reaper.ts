/**
 * A watchdog that kills a host's plugin process groups if the host dies
 * without stopping them — even by SIGKILL, when no exit hook runs. Flotilla
 * SDK plugins exit on their own when the host goes (stdin EOF), but a
 * go-plugin plugin written in Go does not, and neither do grandchildren a
 * plugin left in its group. The watchdog is one small `/bin/sh` per host,
 * in its own session, reading process group ids from a pipe the host holds:
 * when the pipe closes it sends SIGTERM, then SIGKILL half a second later, to
 * every group still registered.
 */
import { type ChildProcess, spawn } from "node:child_process";

// Lines "PGID" register a group, "-PGID" forget it; EOF means the host is gone.
const script = `
groups=" "
while IFS= read -r line; do
  case "$line" in
    -*) id="\${line#-}"; kept=" "; for g in $groups; do [ "$g" = "$id" ] || kept="$kept$g "; done; groups="$kept" ;;
    *[!0-9]*|"") ;;
    *) groups="$groups$line " ;;
  esac
done
[ "$groups" = " " ] && exit 0
for g in $groups; do kill -TERM "-$g" 2>/dev/null; done
sleep 0.5
for g in $groups; do kill -KILL "-$g" 2>/dev/null; done
`;

/** Where a host registers the process groups it starts; see {@link GroupReaper}. */
export interface ProcessGroupRegistry {
  /** A group was started. */
  register(pgid: number): void;
  /** The group is gone (its leader exited and what was left of it was killed). */
  forget(pgid: number): void;
}

/** One watchdog per host; start lazily with the first plugin. */
export class GroupReaper implements ProcessGroupRegistry {
  private child: ChildProcess | undefined;

  /** True where a POSIX shell and process groups exist. */
  static get supported(): boolean {
    return process.platform !== "win32";
  }

  /** Asks the watchdog to kill `pgid` if the host dies. */
  register(pgid: number): void {
    this.write(`${pgid}\n`);
  }

  /** The group was stopped normally: the watchdog forgets it (its id may be reused). */
  forget(pgid: number): void {
    if (this.child) this.write(`-${pgid}\n`);
  }

  /** Ends the watchdog; groups still registered are signalled as if the host had died. */
  close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      // Keep the event loop alive until it has exited, or a host awaiting stop() at top level would end early.
      child.ref();
      child.once("exit", () => resolve());
      child.stdin?.end();
    });
  }

  private write(line: string): void {
    if (!GroupReaper.supported) return;
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) this.child = this.start();
    this.child.stdin?.write(line);
  }

  private start(): ChildProcess {
    // Its own session, so a Ctrl-C to the host's terminal group does not take the watchdog down first.
    const child = spawn("/bin/sh", ["-c", script], {
      detached: true,
      stdio: ["pipe", "ignore", "ignore"],
      env: { PATH: "/usr/bin:/bin" },
    });
    child.stdin?.on("error", () => {});
    // Neither the child nor its pipe may keep the host's event loop alive.
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return child;
  }
}
