/**
 * Assembles a {@link UnaryPair}: starts a server kind in its own process on a
 * fresh Unix socket and connects a client kind to it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type ConnectClientVariant, connectConnectClient } from "./connect-pair.js";
import { connectGrpcJsClient } from "./grpc-js-pair.js";
import { connectRawHttp2Client } from "./raw-http2.js";
import type { ServerKind } from "./server-kinds.js";
import type { UnaryPair } from "./unary-pair.js";

/** A client implementation the bench can connect with. */
export type ClientKind = "raw-http2" | "grpc-js" | `connect:${ConnectClientVariant}`;

// Resolved against the package root so it works from src/ (vitest) and dist/ alike;
// the server always runs from the compiled output.
const serverEntry = fileURLToPath(new URL("../dist/server-process.js", import.meta.url));

/**
 * The Node flags of this process that its server processes inherit:
 * `node --cpu-prof dist/main.js` profiles the servers (and the bench plugin)
 * as well, so a call's cost can be read on both sides, and
 * `--stack-trace-limit=0` applies to both (docs/transport.md).
 */
export function profilingArgs(): string[] {
  return process.execArgv.filter((arg) => /^--(cpu-prof|stack-trace-limit)/.test(arg));
}

/** Spawns the server process and resolves once it prints `ready`. */
export async function spawnServer(kind: ServerKind, socketPath: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...profilingArgs(), serverEntry, kind, socketPath], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`bench server "${kind}" did not print "ready" within 15 s; stderr: ${stderr}`));
    }, 15_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`bench server "${kind}" exited (${code ?? signal}) before it was ready; stderr: ${stderr}`));
    });
  });
  return child;
}

/** Stops a server process: closes its stdin, then SIGKILL if it has not exited within 2 s. */
export async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.stdin?.end();
  const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
  await exited;
  clearTimeout(timer);
}

function connectClient(kind: ClientKind, socketPath: string) {
  if (kind === "raw-http2") return connectRawHttp2Client(socketPath);
  if (kind === "grpc-js") return connectGrpcJsClient(socketPath);
  return connectConnectClient(socketPath, kind.slice("connect:".length) as ConnectClientVariant);
}

/** The report label of a library pair. */
export function pairName(client: ClientKind, server: ServerKind): string {
  return `${client} → ${server}`;
}

/** Starts `server` in a child process on `socketPath` and connects `client` to it. */
export async function openPair(client: ClientKind, server: ServerKind, socketPath: string): Promise<UnaryPair> {
  const child = await spawnServer(server, socketPath);
  try {
    const connection = await connectClient(client, socketPath);
    return {
      name: pairName(client, server),
      serverPid: child.pid as number,
      call: connection.call,
      close: async () => {
        await connection.close();
        await stopServer(child);
      },
    };
  } catch (error) {
    await stopServer(child);
    throw error;
  }
}
