/**
 * `serve()`: the one call a plugin's entry point makes. It checks the magic
 * cookie, starts the server, prints the handshake line as the first line of
 * stdout, routes later stdout/stderr writes to plugin.GRPCStdio, and exits
 * when the host asks, goes away, or signals.
 */
import { hasMagicCookie, missingCookieMessage } from "./cookie.js";
import type { PluginDefinition } from "./definition.js";
import { type LifecycleProcess, type StopCause, watchLifecycle } from "./lifecycle.js";
import { createLogger } from "./logger.js";
import { type PluginServerOptions, startPluginServer } from "./server.js";
import { PluginStartupError } from "./startup-error.js";
import { captureProcessStdio, StdioRelay } from "./stdio.js";

/** Options of {@link serve}; all optional. */
export type ServeOptions = Pick<PluginServerOptions, "gracePeriodMs" | "maxMessageBytes" | "network">;

/** What serve() uses of the process: the process itself, or a stand-in in a test. */
export interface ServeProcess extends LifecycleProcess {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  /** Ends the process; serve() does nothing after calling it. */
  exit(code: number): void;
}

interface OutputStream {
  write: NodeJS.WriteStream["write"];
  on(event: "error", listener: () => void): unknown;
}

/**
 * Serves `definition` as a plugin process and exits the process when done:
 * 0 after a requested shutdown, 1 when it cannot start (the reason is on stderr).
 */
export async function serve<Config>(definition: PluginDefinition<Config>, options: ServeOptions = {}): Promise<void> {
  return serveWith(definition, options, process);
}

/** {@link serve} on the given process (tests pass a stand-in to watch it in-process). */
export async function serveWith<Config>(
  definition: PluginDefinition<Config>,
  options: ServeOptions,
  proc: ServeProcess,
): Promise<void> {
  const env = proc.env;
  if (!hasMagicCookie(env)) {
    proc.stderr.write(`${missingCookieMessage(definition?.name ?? "plugin")}\n`);
    proc.exit(1);
    return;
  }
  // A host that died closes our pipes; EPIPE on a log line must not crash a graceful shutdown.
  proc.stdout.on("error", () => {});
  proc.stderr.on("error", () => {});
  // Capture before anything can print: the handshake must be the first stdout line.
  const relay = new StdioRelay((channel, data) => io.writeRaw(channel, data));
  const io = captureProcessStdio(relay, proc);
  const logger = createLogger({ module: definition?.name ?? "plugin", write: io.writeStderr });
  // Watch signals and the host before the handshake: a host may send SIGTERM
  // the moment it reads the line, and Node's default would kill us abruptly.
  let server: Awaited<ReturnType<typeof startPluginServer>> | undefined;
  let stopRequested: StopCause | undefined;
  const unwatch = watchLifecycle({
    env,
    process: proc,
    onIgnoredInterrupt: () => logger.debug("SIGINT ignored: the host decides when this plugin stops"),
    onStop: (cause, detail) => {
      logger.info("plugin stopping", { cause, detail });
      stopRequested = cause;
      void server?.shutdown(cause);
    },
  });
  try {
    server = await startPluginServer(definition, { ...options, env, logger, stdio: relay });
  } catch (err) {
    io.restore();
    const message =
      err instanceof PluginStartupError ? err.message : `plugin failed to start: ${(err as Error)?.stack ?? err}`;
    proc.stderr.write(`${message}\n`);
    proc.exit(1);
    return;
  }
  io.writeStdout(`${server.handshakeLine}\n`);
  if (stopRequested) void server.shutdown(stopRequested);
  const reason = await server.closed;
  unwatch();
  logger.debug("plugin stopped", { reason });
  io.restore();
  // Let the logger's last line drain before exiting, but do not wait on a stuck pipe forever.
  setTimeout(() => proc.exit(0), 1_000).unref();
  proc.stderr.write("", () => proc.exit(0));
}
