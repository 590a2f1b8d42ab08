/**
 * The conformance suite's exit checks (conformance.ts runs them last): a plugin leaves when its host
 * closes its stdin (the Flotilla host's lifeline), when its host asks (go-plugin's
 * GRPCController.Shutdown), and when its host dies without a word (SIGKILL) — each within a bound, so a
 * host never has to hunt for plugins it started. Each instance after the first is started for its check.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import type { Readable } from "node:stream";
import { isProcessAlive, signalProcessGroup } from "@flotilla/process";
import {
  type CertificatePair,
  FlotillaPluginEnv,
  goplugin,
  MAX_HANDSHAKE_LINE_BYTES,
  parseHandshake,
  readHandshakeLine,
} from "@flotilla/protocol/wire";
import { describeError, duration, type RecordCheck, sleep, waitFor } from "./conformance-check.js";
import { pluginClient } from "./plugin-client.js";
import { hostEnvironment, ownSocketDir, type SpawnedPlugin } from "./spawn-plugin.js";

/** What the exit checks need. */
export interface ExitCheckContext {
  /** The instance the other checks ran against; its stdin is closed here. */
  readonly plugin: SpawnedPlugin;
  /** Starts another instance as a host does. */
  readonly startAnother: () => Promise<SpawnedPlugin>;
  readonly command: string;
  readonly args: readonly string[];
  /** The environment given to every instance (besides what a host sets). */
  readonly env: Record<string, string>;
  readonly tls: CertificatePair | undefined;
  /** How long the plugin may take to exit. */
  readonly settleMs: number;
  /** How long a start may take. */
  readonly startTimeoutMs: number;
}

/** Runs the exit checks, each recorded. */
export async function exitChecks(record: RecordCheck, context: ExitCheckContext): Promise<void> {
  const { settleMs } = context;
  await record("exits when its host closes its stdin (the host's lifeline)", async () => {
    const { plugin } = context;
    plugin.child.stdin?.end();
    const ended = await Promise.race([plugin.exited, sleep(settleMs).then(() => undefined)]);
    if (!ended) {
      throw new Error(
        `still running ${duration(settleMs)} after its stdin closed, though ${FlotillaPluginEnv.stdinLifeline}=1 said that stdin EOF means the host is gone; read stdin and exit at its end`,
      );
    }
    return exitDetail(ended);
  });
  await record("shuts down when its host asks (GRPCController.Shutdown)", async () => {
    const another = await context.startAnother();
    const controller = pluginClient(
      another.handshake,
      goplugin.GRPCController,
      context.tls ? { tls: context.tls } : {},
    );
    try {
      // The plugin may close the connection before it answers; its exit is what counts.
      await controller.unary("shutdown", {}, { deadline: 5_000 }).catch(() => undefined);
      const ended = await Promise.race([another.exited, sleep(settleMs).then(() => undefined)]);
      if (!ended) {
        throw new Error(
          `still running ${duration(settleMs)} after GRPCController.Shutdown; stop serving and exit, or a host has to kill it`,
        );
      }
      if (ended.code !== 0) {
        throw new Error(
          `${exitDetail(ended)} after GRPCController.Shutdown; a graceful shutdown exits 0, anything else reads as a crash`,
        );
      }
      return exitDetail(ended);
    } finally {
      controller.close();
      another.kill();
    }
  });
  await record("exits when its host dies (host killed with SIGKILL)", async () => {
    const host = await startUnderStandInHost(context);
    try {
      host.standIn.kill("SIGKILL");
      const exited = await waitFor(() => !isRunning(host.pluginPid), settleMs);
      if (!exited) {
        throw new Error(
          `still running ${duration(settleMs)} after its host was killed: watch the host (exit at stdin EOF when ${FlotillaPluginEnv.stdinLifeline}=1, or when the parent process changes), or it is left holding its socket and credentials`,
        );
      }
      return "exited";
    } finally {
      host.standIn.kill("SIGKILL");
      signalProcessGroup(host.pluginPid, "SIGKILL");
      if (host.socketDir) rmSync(host.socketDir, { recursive: true, force: true });
    }
  });
}

function exitDetail(ended: { code: number | null; signal: NodeJS.Signals | null }): string {
  return ended.code === null ? `exited (signal ${ended.signal})` : `exited with code ${ended.code}`;
}

/**
 * The host stand-in: a process that starts the plugin as a host does (its own process group, its stdio on
 * pipes the stand-in holds), prints the plugin's pid and handshake line as JSON, and waits to be killed.
 * Node built-ins only, run with `node -e`, so it needs no file of its own.
 */
const STAND_IN_HOST = `
const { spawn } = require("node:child_process");
const [command, ...args] = process.argv.slice(1);
const plugin = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"], detached: true });
plugin.on("error", (error) => { process.stderr.write(error.message + "\\n"); process.exit(3); });
plugin.on("exit", (code, signal) => { process.stderr.write("the plugin exited (" + (code ?? signal) + ") while its host lived\\n"); process.exit(4); });
plugin.stderr.on("data", (chunk) => process.stderr.write(chunk));
let head = "";
plugin.stdout.setEncoding("utf8").on("data", (chunk) => {
  if (head === undefined) return;
  head += chunk;
  const end = head.indexOf("\\n");
  if (end < 0) return;
  process.stdout.write(JSON.stringify({ pid: plugin.pid, handshake: head.slice(0, end) }) + "\\n");
  head = undefined;
});
setInterval(() => {}, 1 << 30);
`;

interface StandInHost {
  readonly standIn: ChildProcess;
  readonly pluginPid: number;
  readonly socketDir: string | undefined;
}

/** Starts the plugin under a stand-in host and waits for its handshake line (the plugin is up). */
async function startUnderStandInHost(context: ExitCheckContext): Promise<StandInHost> {
  const standIn = spawn(process.execPath, ["-e", STAND_IN_HOST, context.command, ...context.args], {
    env: hostEnvironment(context.env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  standIn.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exitedEarly = new AbortController();
  standIn.on("exit", () => exitedEarly.abort());
  try {
    const { line } = await readHandshakeLine(standIn.stdout as Readable, {
      timeoutMs: context.startTimeoutMs,
      maxBytes: MAX_HANDSHAKE_LINE_BYTES * 2,
      signal: exitedEarly.signal,
    });
    standIn.stdout?.resume();
    const started = JSON.parse(line) as { pid: number; handshake: string };
    return { standIn, pluginPid: started.pid, socketDir: ownSocketDir(parseHandshake(started.handshake)) };
  } catch (error) {
    standIn.kill("SIGKILL");
    const tail = stderr.trim().split("\n").slice(-5).join(" | ");
    throw new Error(
      `the plugin did not start under a stand-in host: ${describeError(error)}${tail ? `; its stderr ended: ${tail}` : ""}`,
    );
  }
}

/**
 * Whether `pid` is still running. An orphan that exited waits as a zombie until whoever adopted it reaps
 * it, which this process cannot hurry; on Linux /proc tells a zombie apart, elsewhere it counts as alive.
 */
function isRunning(pid: number): boolean {
  if (!existsSync("/proc/self/stat")) return isProcessAlive(pid);
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}
