/**
 * Starts a plugin executable: its own process group (so the whole group can
 * be signalled), only the environment it was given, stdin kept open as a
 * pipe (a plugin exits on stdin EOF, which is how it dies with its host even
 * when the host is SIGKILLed), stdout and stderr piped for the handshake and logs.
 */
import type { Readable, Writable } from "node:stream";
import { signalProcessGroup } from "@flotilla/process";
import { execa } from "execa";

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
  const subprocess = execa(options.command, [...options.args], {
    cwd: options.cwd,
    env: options.env,
    extendEnv: false,
    detached: true,
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
    buffer: false,
    reject: false,
    // We stop plugins ourselves (Shutdown, SIGTERM, SIGKILL of the group); execa's exit hook would only SIGTERM the leader.
    cleanup: false,
    forceKillAfterDelay: false,
    stripFinalNewline: false,
  });
  let hasExited = false;
  const exited: Promise<ExitInfo> = subprocess.then(
    (result) => {
      hasExited = true;
      const info: ExitInfo = {};
      if (typeof result.exitCode === "number") info.exitCode = result.exitCode;
      if (result.signal) info.signal = result.signal;
      const code = (result as { code?: string }).code;
      if (result.failed && code && !result.signal && result.exitCode === undefined) {
        info.spawnError = `${code}: ${result.shortMessage ?? result.message}`;
      }
      return info;
    },
    (err: unknown) => {
      hasExited = true;
      return { spawnError: err instanceof Error ? err.message : String(err) };
    },
  );
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
