/**
 * Starts a plugin executable: its own process group (so the whole group can
 * be signalled), only the environment it was given, stdin kept open as a
 * pipe (a plugin exits on stdin EOF, which is how it dies with its host even
 * when the host is SIGKILLed), stdout and stderr piped for the handshake and logs.
 */
import { spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { signalProcessGroup } from "@flotilla/process";

/** How a plugin process ended. */
export interface ExitInfo {
  /** Exit code when it exited by itself. */
  exitCode?: number;
  /** Signal name when a signal ended it. */
  signal?: string;
  /** Why it could not be started at all (e.g. ENOENT), when that is what happened. */
  spawnError?: string;
}

/** A started plugin process. */
export interface SpawnedPlugin {
  /** Process id, also its process group id; undefined when spawning failed. */
  pid: number | undefined;
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** Resolves once the process has exited and been reaped; never rejects. */
  exited: Promise<ExitInfo>;
  /** True once `exited` has resolved. */
  readonly hasExited: boolean;
  /** Sends `signal` to the plugin's whole process group; false when nothing was left to signal. */
  signalGroup(signal: NodeJS.Signals): boolean;
}

/** What {@link spawnPlugin} runs. */
export interface SpawnOptions {
  command: string;
  args: readonly string[];
  cwd?: string;
  env: Record<string, string>;
}

/** Spawns the plugin. Never throws: a spawn failure shows up as `exited` with `spawnError`. */
export function spawnPlugin(options: SpawnOptions): SpawnedPlugin {
  // node:child_process, not a wrapper: the host stops plugins itself (Shutdown, SIGTERM, SIGKILL of the
  // group) and reads their output as streams, and a wrapper such as execa would cost the host about 23 MB of
  // resident memory for none of it.
  const subprocess = spawn(options.command, [...options.args], {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let hasExited = false;
  // "close": the process has exited and its output pipes are closed, so nothing it wrote is still unread.
  // A spawn failure emits "error" (and no "close" is to be relied on then).
  const exited = new Promise<ExitInfo>((resolve) => {
    subprocess.once("close", (code, signal) => {
      hasExited = true;
      const info: ExitInfo = {};
      if (typeof code === "number") info.exitCode = code;
      if (signal) info.signal = signal;
      resolve(info);
    });
    subprocess.on("error", (err: NodeJS.ErrnoException) => {
      if (subprocess.pid !== undefined) return; // a failed kill(), not a failed start
      hasExited = true;
      resolve({ spawnError: err.code ? `${err.code}: ${err.message}` : err.message });
    });
  });
  const pid = subprocess.pid;
  // A plugin that dies closes its stdin pipe; writing to it then must not crash the host.
  subprocess.stdin?.on("error", () => {});
  return {
    pid,
    stdin: subprocess.stdin as Writable,
    stdout: subprocess.stdout as Readable,
    stderr: subprocess.stderr as Readable,
    exited,
    get hasExited() {
      return hasExited;
    },
    signalGroup(signal: NodeJS.Signals): boolean {
      return pid !== undefined && signalProcessGroup(pid, signal);
    },
  };
}
