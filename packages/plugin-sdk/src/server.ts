/**
 * The testable core of a plugin: validate the definition, negotiate the
 * protocol version, listen (optionally with AutoMTLS), register exactly the
 * implemented services plus the go-plugin wire services, and produce the
 * handshake line. It touches no process state; `serve()` adds that.
 */
import { create } from "@bufbuild/protobuf";
import { ContractRegistryService, GetContractRegistryResponseSchema } from "@flotilla/protocol";
import {
  CORE_PROTOCOL_VERSION,
  formatHandshake,
  goplugin,
  grpcServiceDefinition,
  type Handshake,
  HandshakeEnv,
  health,
  MAX_MESSAGE_BYTES,
} from "@flotilla/protocol/wire";
import { Server, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { serverTlsFromEnv } from "./auto-mtls.js";
import { controllerHandlers } from "./controller.js";
import type { PluginDefinition, PluginLogger } from "./definition.js";
import { rawRequestServiceDefinition, wrapHandlers } from "./handlers.js";
import { HealthService } from "./health.js";
import { bindListener } from "./listener.js";
import { createLogger } from "./logger.js";
import { negotiateProtocolVersion, SUPPORTED_PROTOCOL_VERSIONS } from "./protocol-version.js";
import { buildRegistration } from "./registry.js";
import { StdioRelay } from "./stdio.js";

/**
 * Largest message either side may send: big enough for configs and log batches, small enough to bound
 * memory. The same limit the host's channel uses.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = MAX_MESSAGE_BYTES;

/**
 * Default time in-flight calls (and onShutdown) get to finish after a shutdown
 * request. Below 2 s on purpose: Flotilla's host sends SIGTERM 2 s after
 * Shutdown and go-plugin's host SIGKILLs 2 s after it, so a longer grace would
 * never get to abort handler signals and exit cleanly under either host.
 */
export const DEFAULT_GRACE_PERIOD_MS = 1_500;

/**
 * Runs the definition's `onShutdown` hook, if any; resolves once it settled.
 * A hook that throws is logged, never propagated: the server must still stop.
 */
async function runShutdownHook(
  definition: Pick<PluginDefinition, "onShutdown">,
  signal: AbortSignal,
  logger: PluginLogger,
): Promise<void> {
  if (!definition.onShutdown) return;
  try {
    await definition.onShutdown(signal);
  } catch (err) {
    logger.error("the plugin's onShutdown hook failed", { error: err instanceof Error ? err.message : String(err) });
  }
}

/** Options of {@link startPluginServer}. */
export interface PluginServerOptions {
  /** The environment the host gave (PLUGIN_*); `process.env` in production. */
  env?: NodeJS.ProcessEnv;
  /** "unix" (default) or "tcp"; overrides FLOTILLA_PLUGIN_NETWORK. */
  network?: "unix" | "tcp";
  /** Time in-flight calls get to finish on shutdown before their signals abort and the server is forced down. */
  gracePeriodMs?: number;
  /** Largest request or response, in bytes; default 16 MiB. */
  maxMessageBytes?: number;
  /** The logger handlers receive; default hclog JSON lines on stderr. */
  logger?: PluginLogger;
  /** Receives the plugin's captured stdout/stderr for plugin.GRPCStdio; default an internal relay. */
  stdio?: StdioRelay;
  /** App protocol versions this plugin serves; default the SDK's. */
  supportedProtocolVersions?: readonly number[];
}

/** Why a plugin server stopped. */
export type ShutdownReason = "controller" | "signal" | "host-gone" | "close";

/** A running plugin server. */
export interface PluginServer {
  /** The handshake as printed. */
  handshake: Handshake;
  /** The handshake line, without newline: what goes first on stdout. */
  handshakeLine: string;
  /** The relay behind plugin.GRPCStdio. */
  stdio: StdioRelay;
  /**
   * Stops accepting calls, lets in-flight calls finish within the grace
   * period, then aborts their signals and forces the server down. Resolves
   * true when everything finished in time. Calling it again returns the same promise.
   */
  shutdown(reason?: ShutdownReason): Promise<boolean>;
  /** Resolves with the reason once a shutdown (from any source, e.g. the controller) has completed. */
  closed: Promise<ShutdownReason>;
}

/**
 * Starts a plugin server for `definition`. Throws PluginStartupError for
 * bad definitions or environments, naming the problem and the fix.
 */
export async function startPluginServer<Config>(
  definition: PluginDefinition<Config>,
  options: PluginServerOptions = {},
): Promise<PluginServer> {
  const env = options.env ?? process.env;
  const protocolVersion = negotiateProtocolVersion(
    env[HandshakeEnv.protocolVersions],
    options.supportedProtocolVersions ?? SUPPORTED_PROTOCOL_VERSIONS,
  );
  const registration = buildRegistration(definition, protocolVersion);
  const logger =
    options.logger ?? createLogger({ module: definition.name, write: (line) => process.stderr.write(line) });
  const stdio = options.stdio ?? new StdioRelay();
  const gracePeriodMs = options.gracePeriodMs ?? DEFAULT_GRACE_PERIOD_MS;
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const forceShutdown = new AbortController();

  const server = new Server({
    "grpc.max_receive_message_length": maxMessageBytes,
    "grpc.max_send_message_length": maxMessageBytes,
  });
  const { config } = registration;
  const handlerEnv = {
    shutdownSignal: forceShutdown.signal,
    // Handlers' records and errors never carry a config secret, whoever wrote them.
    logger: config.secrets.logger(logger),
    config: () => config.current(),
    mask: <T>(value: T) => config.secrets.mask(value),
  };
  for (const { service, handlers } of registration.services) {
    server.addService(rawRequestServiceDefinition(service), wrapHandlers(service, handlers, handlerEnv));
  }
  const registryResponse = create(GetContractRegistryResponseSchema, { registry: registration.registry });
  server.addService(grpcServiceDefinition(ContractRegistryService), {
    getContractRegistry: (_call: unknown, callback: (err: null, value: unknown) => void) =>
      callback(null, registryResponse),
  } as UntypedServiceImplementation);
  const healthService = new HealthService(registration.services.map((s) => s.service.typeName));
  server.addService(grpcServiceDefinition(health.Health), healthService.handlers());
  server.addService(grpcServiceDefinition(goplugin.GRPCStdio), stdio.handlers());

  let resolveClosed: (reason: ShutdownReason) => void = () => {};
  const closed = new Promise<ShutdownReason>((resolve) => {
    resolveClosed = resolve;
  });
  let shuttingDown: Promise<boolean> | undefined;
  let cleanupListener = () => {};
  const shutdown = (reason: ShutdownReason = "close"): Promise<boolean> => {
    shuttingDown ??= (async () => {
      logger.debug("plugin shutting down", { reason, gracePeriodMs });
      healthService.markShuttingDown();
      stdio.close();
      // The plugin's own clean-up (e.g. stopping the jobs it started) runs alongside the
      // drain of in-flight calls: a call following a job may only end once the job has.
      const hookDone = runShutdownHook(definition, forceShutdown.signal, logger);
      const serverDrained = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      let timer: NodeJS.Timeout | undefined;
      const outOfTime = new Promise<false>((resolve) => {
        timer = setTimeout(() => {
          // Out of time: tell handlers and the hook to stop, give them a moment to answer, then cut connections.
          forceShutdown.abort();
          setTimeout(() => {
            server.forceShutdown();
            resolve(false);
          }, 100).unref();
        }, gracePeriodMs);
      });
      const graceful = await Promise.race([
        // Calls that ended only because their signal aborted did not finish in time.
        Promise.all([hookDone, serverDrained]).then(() => !forceShutdown.signal.aborted),
        outOfTime,
      ]);
      clearTimeout(timer);
      if (!graceful) server.forceShutdown();
      cleanupListener();
      if (!graceful)
        logger.warn("in-flight calls or the onShutdown hook did not finish within the grace period", { gracePeriodMs });
      resolveClosed(reason);
      return graceful;
    })();
    return shuttingDown;
  };
  server.addService(
    grpcServiceDefinition(goplugin.GRPCController),
    controllerHandlers(() => void shutdown("controller")),
  );

  const tls = await serverTlsFromEnv(env);
  const listener = await bindListener(server, tls.credentials, env, options.network);
  cleanupListener = listener.cleanup;

  const handshake: Handshake = {
    coreProtocolVersion: CORE_PROTOCOL_VERSION,
    appProtocolVersion: protocolVersion,
    network: listener.network,
    address: listener.address,
    protocol: "grpc",
  };
  if (tls.serverCertDer) handshake.serverCertDer = tls.serverCertDer;
  // go-plugin prints the seventh field only to hosts that announce they parse
  // it. We do not implement the gRPC broker, so we answer "false": a Go host
  // that requires multiplexing then fails with its own clear error.
  if (env[HandshakeEnv.multiplexGrpc]) handshake.multiplexSupported = false;
  return { handshake, handshakeLine: formatHandshake(handshake), stdio, shutdown, closed };
}
