/**
 * Where the plugin listens: a Unix socket in a short private directory by
 * default, TCP on 127.0.0.1 within PLUGIN_MIN_PORT..PLUGIN_MAX_PORT when the
 * host asks for it (go-plugin uses TCP only where Unix sockets are missing).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FlotillaPluginEnv, HandshakeEnv } from "@flotilla/protocol/wire";
import type { Server, ServerCredentials } from "@grpc/grpc-js";
import { applySocketGroup } from "./socket-group.js";
import { PluginStartupError } from "./startup-error.js";

/**
 * Set to "tcp" by a host that wants TCP instead of a Unix socket. go-plugin
 * has no such variable (it picks by OS), so this one is Flotilla's own.
 */
export const NETWORK_ENV = FlotillaPluginEnv.network;

/**
 * Longest socket path we accept: sun_path is 108 bytes on Linux and 104 on
 * macOS, including the terminating NUL.
 */
export const MAX_UNIX_SOCKET_PATH_BYTES = 103;

/** A bound listener, as the handshake line reports it. */
export interface BoundListener {
  /** "unix" or "tcp". */
  network: "unix" | "tcp";
  /** Socket path, or 127.0.0.1:port. */
  address: string;
  /** Removes the socket directory; safe to call twice. */
  cleanup(): void;
}

function bind(server: Server, target: string, credentials: ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(target, credentials, (err, port) => (err ? reject(err) : resolve(port)));
  });
}

function parsePort(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 65535) {
    throw new PluginStartupError(`${name} is ${JSON.stringify(raw)}; set it to a port number between 1 and 65535`);
  }
  return Number(raw);
}

/** Picks a short directory for the socket: PLUGIN_UNIX_SOCKET_DIR, else TMPDIR if short, else /tmp. */
function socketParentDir(env: NodeJS.ProcessEnv): string {
  const fromHost = env[HandshakeEnv.unixSocketDir];
  if (fromHost) return fromHost;
  const tmp = tmpdir();
  // A long TMPDIR (macOS's /var/folders/..., CI sandboxes) would push the path past sun_path.
  return tmp.length <= 60 ? tmp : "/tmp";
}

async function bindUnix(
  server: Server,
  credentials: ServerCredentials,
  env: NodeJS.ProcessEnv,
): Promise<BoundListener> {
  const parent = socketParentDir(env);
  let dir: string;
  try {
    dir = mkdtempSync(join(parent, "flp-"));
  } catch (err) {
    throw new PluginStartupError(
      `cannot create the plugin's socket directory in ${parent}: ${(err as Error).message}; ` +
        `set ${HandshakeEnv.unixSocketDir} to a writable directory`,
      { cause: err },
    );
  }
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const path = join(dir, "plugin.sock");
  if (Buffer.byteLength(path) > MAX_UNIX_SOCKET_PATH_BYTES) {
    cleanup();
    throw new PluginStartupError(
      `the Unix socket path ${path} is ${Buffer.byteLength(path)} bytes, over the ${MAX_UNIX_SOCKET_PATH_BYTES}-byte limit; ` +
        `set ${HandshakeEnv.unixSocketDir} to a shorter directory such as /tmp`,
    );
  }
  try {
    await bind(server, `unix:${path}`, credentials);
  } catch (err) {
    cleanup();
    throw new PluginStartupError(`cannot listen on Unix socket ${path}: ${(err as Error).message}`, { cause: err });
  }
  const group = env[HandshakeEnv.unixSocketGroup];
  if (group) {
    try {
      applySocketGroup(path, group);
    } catch (err) {
      server.forceShutdown();
      cleanup();
      throw err;
    }
  }
  return { network: "unix", address: path, cleanup };
}

async function bindTcp(server: Server, credentials: ServerCredentials, env: NodeJS.ProcessEnv): Promise<BoundListener> {
  // go-plugin's defaults when the host sends no range.
  const minPort = parsePort(env, HandshakeEnv.minPort, 10000);
  const maxPort = parsePort(env, HandshakeEnv.maxPort, 25000);
  if (minPort > maxPort) {
    throw new PluginStartupError(
      `${HandshakeEnv.minPort} (${minPort}) is greater than ${HandshakeEnv.maxPort} (${maxPort}); swap them`,
    );
  }
  let lastError: unknown;
  for (let port = minPort; port <= maxPort; port++) {
    try {
      await bind(server, `127.0.0.1:${port}`, credentials);
      return { network: "tcp", address: `127.0.0.1:${port}`, cleanup: () => {} };
    } catch (err) {
      lastError = err;
    }
  }
  throw new PluginStartupError(
    `no free TCP port on 127.0.0.1 between ${HandshakeEnv.minPort}=${minPort} and ${HandshakeEnv.maxPort}=${maxPort} ` +
      `(last error: ${(lastError as Error | undefined)?.message}); widen the range`,
    { cause: lastError },
  );
}

/** Binds `server` where the environment says and reports the address for the handshake. */
export function bindListener(
  server: Server,
  credentials: ServerCredentials,
  env: NodeJS.ProcessEnv,
  network: "unix" | "tcp" | undefined,
): Promise<BoundListener> {
  const chosen = network ?? (env[NETWORK_ENV] === "tcp" || process.platform === "win32" ? "tcp" : "unix");
  return chosen === "tcp" ? bindTcp(server, credentials, env) : bindUnix(server, credentials, env);
}
