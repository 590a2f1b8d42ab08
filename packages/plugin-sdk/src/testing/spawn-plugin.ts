/**
 * Test kit: start a plugin executable the way a host does (the host's
 * environment builder and handshake reader from @flotilla/protocol/wire), parse
 * its handshake line, and keep its stderr for assertions. Meant for plugin authors' tests and the
 * SDK's own; not a production host (that is @flotilla/host).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { basename, dirname } from "node:path";
import { signalProcessGroup } from "@flotilla/process";
import {
  buildPluginEnvironment,
  type Handshake,
  HandshakeReadError,
  MAX_HANDSHAKE_LINE_BYTES,
  parseHandshake,
  readHandshakeLine,
} from "@flotilla/protocol/wire";

/** A plugin subprocess that printed a valid handshake. */
export interface SpawnedPlugin {
  /** The parsed handshake. */
  handshake: Handshake;
  /** The raw first stdout line. */
  handshakeLine: string;
  /** The child process (its own process group). */
  child: ChildProcess;
  /** Everything the plugin wrote to stderr so far. */
  stderr(): string;
  /** Everything it wrote to stdout after the handshake line. */
  stdout(): string;
  /** Resolves when the process exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * SIGKILLs the plugin's whole process group if it is still running, and
   * removes its socket directory, which a killed plugin cannot clean up.
   */
  kill(): void;
  /** Asks politely (SIGTERM), waits up to `graceMs` (default 5 s), then kill(). Resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

/** Options of {@link spawnPlugin}. */
export interface SpawnPluginOptions {
  /** Extra environment (wins over the defaults); a key set to undefined is removed. */
  env?: Record<string, string | undefined>;
  /** How long to wait for the handshake line; default 15 s. */
  handshakeTimeoutMs?: number;
}

/** Thrown when the plugin exits or stalls before a handshake; carries its stderr. */
export class PluginSpawnError extends Error {
  constructor(
    message: string,
    /** The plugin's stderr up to the failure. */
    readonly stderr: string,
    /** Exit code, when it exited. */
    readonly exitCode: number | null,
  ) {
    super(`${message}\n--- plugin stderr ---\n${stderr.split("\n").slice(-20).join("\n")}`);
    this.name = "PluginSpawnError";
  }
}

/**
 * The environment a host gives a plugin, before `extra`: the host's own base (PATH, HOME, locale,
 * time zone...), the go-plugin handshake variables and the stdin lifeline; no socket directory, so the
 * plugin chooses its own.
 */
export function hostEnvironment(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: Record<string, string | undefined> = {
    ...buildPluginEnvironment({ hostEnv: process.env, protocolVersions: [1] }),
    ...extra,
  };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return env;
}

/**
 * The socket directory a plugin made for itself (the SDK's private `flp-` directory), which whoever kills
 * the plugin removes; undefined for TCP or a directory someone else chose, which is never ours to remove.
 */
export function ownSocketDir(handshake: Handshake): string | undefined {
  if (handshake.network === "unix" && basename(dirname(handshake.address)).startsWith("flp-")) {
    return dirname(handshake.address);
  }
  return undefined;
}

/** Spawns `command args` as a plugin and waits for its handshake line. */
export function spawnPlugin(command: string, args: string[], options: SpawnPluginOptions = {}): Promise<SpawnedPlugin> {
  const child = spawn(command, args, {
    env: hostEnvironment(options.env),
    stdio: ["pipe", "pipe", "pipe"],
    detached: true,
  });
  let stderr = "";
  let stdout = "";
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("exit", (code, signal) => resolve({ code, signal }));
  });
  let socketDir: string | undefined;
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      if (!signalProcessGroup(child.pid, "SIGKILL")) child.kill("SIGKILL");
    }
    if (socketDir) rmSync(socketDir, { recursive: true, force: true });
  };
  const stop = async (graceMs = 5_000): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    const timer = setTimeout(kill, graceMs);
    const { code } = await exited;
    clearTimeout(timer);
    kill();
    return code;
  };
  const timeoutMs = options.handshakeTimeoutMs ?? 15_000;
  const exitedBeforeHandshake = new AbortController();
  void exited.then(() => exitedBeforeHandshake.abort());
  const stdoutStream = child.stdout as NonNullable<typeof child.stdout>;
  return readHandshakeLine(stdoutStream, {
    timeoutMs,
    maxBytes: MAX_HANDSHAKE_LINE_BYTES,
    signal: exitedBeforeHandshake.signal,
  }).then(
    ({ line, rest }) => {
      stdout = rest.toString("utf8");
      stdoutStream.setEncoding("utf8").on("data", (d: string) => {
        stdout += d;
      });
      stdoutStream.resume();
      let handshake: Handshake;
      try {
        handshake = parseHandshake(line);
      } catch (err) {
        kill();
        throw new PluginSpawnError((err as Error).message, stderr, null);
      }
      socketDir = ownSocketDir(handshake);
      return { handshake, handshakeLine: line, child, stderr: () => stderr, stdout: () => stdout, exited, kill, stop };
    },
    async (err: unknown) => {
      if (err instanceof HandshakeReadError && err.reason === "eof") {
        // Exited, or closed its stdout without a handshake: either way it is no plugin a host could use.
        kill();
        const { code } = await exited;
        // Let stderr drain before reporting it.
        await new Promise((resolve) => setTimeout(resolve, 50));
        throw new PluginSpawnError(`plugin exited with code ${code} before its handshake`, stderr, code);
      }
      kill();
      throw new PluginSpawnError(
        err instanceof HandshakeReadError && err.reason === "timeout"
          ? `no handshake line within ${timeoutMs} ms`
          : (err as Error).message,
        stderr,
        null,
      );
    },
  );
}
