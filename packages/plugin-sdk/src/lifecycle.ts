/**
 * When a plugin process should stop on its own: SIGTERM, its parent
 * gone (re-parented: process.ppid changed), or, when the host asked for it,
 * stdin reaching EOF. Stdin is opt-in because go-plugin hosts hand the
 * plugin their own stdin (often /dev/null, an immediate EOF), while the
 * Flotilla host keeps a pipe open whose EOF means the host died.
 *
 * SIGINT is ignored, as go-plugin plugins ignore it: Ctrl-C in a terminal
 * reaches the host and its plugins alike, and the host must stay in charge of
 * the shutdown order (it may still need to call the plugin while it cleans up).
 */

import { FlotillaPluginEnv } from "@flotilla/protocol/wire";

/** Set to "1" by a host whose open stdin pipe means "I am alive". */
export const STDIN_LIFELINE_ENV = FlotillaPluginEnv.stdinLifeline;

/**
 * The parent as early as this SDK can see it: when this module is evaluated,
 * before the server starts. A host that dies during our start-up has then
 * already been recorded, and the re-parenting is noticed.
 */
const parentAtLoad = process.ppid;

/** Why the process should stop. */
export type StopCause = "signal" | "host-gone";

/** Options of {@link watchLifecycle}. */
export interface LifecycleOptions {
  /** Called once, with why. */
  onStop: (cause: StopCause, detail: string) => void;
  /** The environment; the stdin lifeline applies when STDIN_LIFELINE_ENV is "1". */
  env: NodeJS.ProcessEnv;
  /** Called for each SIGINT, which does not stop the plugin. */
  onIgnoredInterrupt?: () => void;
  /** How often to check the parent pid; default 500 ms. */
  parentPollMs?: number;
  /** The process watched: this one unless a test passes a stand-in. */
  process?: LifecycleProcess;
  /** The parent to watch for; default the parent when this module was loaded. */
  parentPid?: number;
  /** The timer that polls the parent; default setInterval/clearInterval. */
  timers?: LifecycleTimers;
}

/** What {@link watchLifecycle} uses of the process. */
export interface LifecycleProcess {
  readonly ppid: number;
  on(event: "SIGTERM" | "SIGINT", listener: () => void): unknown;
  off(event: "SIGTERM" | "SIGINT", listener: () => void): unknown;
  readonly stdin: {
    on(event: string, listener: (...args: unknown[]) => void): unknown;
    off(event: string, listener: (...args: unknown[]) => void): unknown;
    resume(): unknown;
    pause(): unknown;
  };
}

/** What {@link watchLifecycle} uses to poll the parent. */
export interface LifecycleTimers {
  setInterval(callback: () => void, ms: number): { unref(): unknown };
  clearInterval(handle: { unref(): unknown }): void;
}

const realTimers = { setInterval, clearInterval } as LifecycleTimers;

/** Installs the watchers and returns a function removing them. */
export function watchLifecycle(options: LifecycleOptions): () => void {
  const proc = options.process ?? process;
  const parent = options.parentPid ?? parentAtLoad;
  const timers = options.timers ?? realTimers;
  let stopped = false;
  const stop = (cause: StopCause, detail: string) => {
    if (stopped) return;
    stopped = true;
    options.onStop(cause, detail);
  };
  const onSigterm = () => stop("signal", "SIGTERM");
  const onSigint = () => options.onIgnoredInterrupt?.();
  proc.on("SIGTERM", onSigterm);
  proc.on("SIGINT", onSigint);

  const checkParent = () => {
    if (proc.ppid !== parent) stop("host-gone", `parent process ${parent} exited`);
  };
  const poll = timers.setInterval(checkParent, options.parentPollMs ?? 500);
  poll.unref();
  checkParent();

  const onStdinEnd = () => stop("host-gone", "stdin closed");
  const useStdin = options.env[STDIN_LIFELINE_ENV] === "1";
  if (useStdin) {
    proc.stdin.on("end", onStdinEnd);
    proc.stdin.on("close", onStdinEnd);
    proc.stdin.on("error", onStdinEnd);
    // Reading is what makes EOF observable; the data itself is ignored.
    proc.stdin.on("data", () => {});
    proc.stdin.resume();
  }
  return () => {
    proc.off("SIGTERM", onSigterm);
    proc.off("SIGINT", onSigint);
    timers.clearInterval(poll);
    if (useStdin) {
      proc.stdin.off("end", onStdinEnd);
      proc.stdin.off("close", onStdinEnd);
      proc.stdin.pause();
    }
  };
}
