/**
 * Kills the process groups a process started when that process dies in a way that runs no exit hook
 * (SIGKILL, the OOM killer). A plugin or a job leads its own process group, so that one signal reaches all
 * it started; that also puts it out of reach of whoever kills its owner's group. Flotilla SDK plugins exit
 * on their own when the host goes (stdin EOF), but a go-plugin plugin written in Go does not, nor does a
 * local job, nor a grandchild left in a group.
 *
 * The watchdog is one small `/bin/sh` per owner, in its own session, reading process group ids from a pipe
 * the owner holds. The pipe closes when the owner ends, however it ends; the shell then sends SIGTERM to
 * every group still registered, SIGKILL after the grace period, and exits.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { checkedId } from "./liveness.js";

// Lines "PGID" register a group and "-PGID" forget it; anything else is ignored. EOF means the owner is gone.
const WATCHDOG_SCRIPT = `
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
sleep "$1"
for g in $groups; do kill -KILL "-$g" 2>/dev/null; done
`;

/** Where an owner registers the process groups it starts, and forgets the ones that ended. */
export interface ProcessGroupRegistry {
  /** Group `pgid` was started: kill it should the owner die. */
  register(pgid: number): void;
  /** Group `pgid` is over (its leader exited and what was left of it was killed): forget it, as its id may be reused. */
  forget(pgid: number): void;
}

/** Settings of a {@link ProcessGroupWatchdog}. */
export interface ProcessGroupWatchdogOptions {
  /** Milliseconds between the watchdog's SIGTERM and its SIGKILL of the groups left; default 1000. */
  readonly graceMs?: number;
}

/** True where a POSIX shell and process groups exist; elsewhere the watchdog does nothing. */
export const processGroupWatchdogSupported: boolean = process.platform !== "win32";

/** One watchdog per owning process, started with the first registered group. */
export class ProcessGroupWatchdog implements ProcessGroupRegistry {
  readonly #graceSeconds: string;
  /** Groups registered and not forgotten: what a restarted watchdog has to be told again. */
  readonly #groups = new Set<number>();
  #child: ChildProcess | undefined;

  constructor(options: ProcessGroupWatchdogOptions = {}) {
    this.#graceSeconds = String((options.graceMs ?? 1000) / 1000);
  }

  /** The watchdog's own pid while it runs (tests use it to see that it exited). */
  get pid(): number | undefined {
    return this.#running() ? this.#child?.pid : undefined;
  }

  /** Kill group `pgid` should the owner die; starts the watchdog on first use. */
  register(pgid: number): void {
    this.#groups.add(checkedId(pgid, "pgid"));
    this.#send(`${pgid}\n`);
  }

  /** Group `pgid` ended normally: the watchdog leaves it alone from now on. */
  forget(pgid: number): void {
    if (!this.#groups.delete(pgid)) return;
    if (this.#running()) this.#child?.stdin?.write(`-${pgid}\n`);
  }

  /** Ends the watchdog; groups still registered are signalled as if the owner had died. Resolves once it has exited. */
  close(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    this.#groups.clear();
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      // Keep the event loop alive until it has exited, or an owner awaiting close() at top level would end early.
      child.ref();
      child.once("exit", () => resolve());
      child.stdin?.end();
    });
  }

  #running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  #send(line: string): void {
    if (!processGroupWatchdogSupported) return;
    if (this.#running()) {
      this.#child?.stdin?.write(line);
      return;
    }
    // Not started yet, or killed by someone: a new one is told every group still registered, this one included.
    this.#child = this.#start();
    this.#child.stdin?.write([...this.#groups].map((g) => `${g}\n`).join(""));
  }

  #start(): ChildProcess {
    const child = spawn("/bin/sh", ["-c", WATCHDOG_SCRIPT, "flotilla-group-watchdog", this.#graceSeconds], {
      // Its own session: a Ctrl-C to the owner's terminal, or a kill of the owner's group, must not take it down first.
      detached: true,
      stdio: ["pipe", "ignore", "ignore"],
      // Only what the script needs: no ENV or BASH_ENV that would make the shell run something else first, and
      // none of the owner's environment, which for a plugin holds the secrets its host granted it.
      env: { PATH: "/usr/bin:/bin" },
    });
    // A watchdog that cannot start (no /bin/sh) or whose pipe broke must not crash its owner with an unhandled error.
    child.on("error", () => {});
    child.stdin?.on("error", () => {});
    // Neither the child nor its pipe may keep the owner's event loop alive.
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return child;
  }
}
