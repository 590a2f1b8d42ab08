/**
 * One run of one plugin process, from spawn to exit: checksum, spawn,
 * handshake, connect, health, registry, configure, then stop by Shutdown,
 * SIGTERM and SIGKILL of its process group. Restarts are not its business
 * (see managed-plugin.ts): a PluginProcess lives once.
 */

import { type ProcessGroupRegistry, terminateProcessGroup } from "@flotilla/process";
import {
  Code,
  type ContractRegistry,
  ContractRegistryService,
  IaCProviderService,
  isFlotillaError,
} from "@flotilla/protocol";
import {
  APP_PROTOCOL_VERSION,
  buildPluginEnvironment,
  type CertificatePair,
  goplugin,
  type Handshake,
  HandshakeReadError,
  HEALTH_SERVICE_NAME,
  health,
  MAX_HANDSHAKE_LINE_BYTES,
  PIN_MISMATCH_MESSAGE,
  parseHandshake,
  readHandshakeLine,
  secretValues,
} from "@flotilla/protocol/wire";
import type { Client } from "@grpc/grpc-js";
import { serverStreamCall } from "../rpc/server-stream-call.js";
import { unaryCall } from "../rpc/unary-call.js";
import { generateCertificate } from "./auto-mtls.js";
import { verifyChecksum } from "./checksum.js";
import { type ConfigSchemaError, checkConfigAgainstSchema } from "./config-schema.js";
import { openPluginClient } from "./connection.js";
import { LogForwarder } from "./log-forwarder.js";
import type { PluginLogSink } from "./log-record.js";
import { DEFAULT_START_TIMEOUT_MS, type PluginConfig } from "./plugin-config.js";
import { PluginError, type PluginPhase } from "./plugin-error.js";
import { type ExitInfo, type SpawnedPlugin, spawnPlugin } from "./spawn.js";
import { StderrTail } from "./stderr-tail.js";

/** Deadlines of the stop sequence, each in milliseconds. */
export interface StopTimeouts {
  /** Wait after GRPCController/Shutdown (and closing stdin) before SIGTERM; default 2000. */
  gracefulMs?: number;
  /** Wait after SIGTERM before SIGKILL of the group; default 2000. */
  terminateMs?: number;
}

/** What a host supplies to start a process. */
export interface PluginProcessOptions {
  config: PluginConfig;
  /** Where records of the plugin's output go. */
  sink: PluginLogSink;
  /** Directory for Unix sockets (short path). */
  socketDir: string;
  /** The host environment to pick base and inherited variables from; default process.env. */
  hostEnv?: Readonly<Record<string, string | undefined>>;
  /**
   * The AutoMTLS client certificate to present; default a fresh one per start. A host
   * shares one across its plugins: generating it costs more than the rest of the host's
   * side of a start, and only its public half ever leaves the host.
   */
  clientCertificate?: () => Promise<CertificatePair>;
  /** Told about the process group as soon as it exists and once it is gone (the host's watchdog). */
  processGroups?: ProcessGroupRegistry;
}

/** Time measurements of one start, in milliseconds since spawn. */
export interface StartTimings {
  handshakeMs: number;
  readyMs: number;
}

/** A started, healthy, configured plugin process. */
export class PluginProcess {
  private stopping: Promise<ExitInfo> | undefined;

  private constructor(
    /** The plugin's config. */
    readonly config: PluginConfig,
    private readonly child: SpawnedPlugin,
    /** The parsed handshake line. */
    readonly handshake: Handshake,
    /** The gRPC client (one channel) every call to this process goes through. */
    readonly client: Client,
    /** The plugin's ContractRegistry, read once. */
    readonly registry: ContractRegistry,
    private readonly tail: StderrTail,
    forwarder: LogForwarder,
    /** How long the start took. */
    readonly timings: StartTimings,
  ) {
    child.exited.then(() => {
      forwarder.flush();
      client.close();
    });
  }

  /** Process id (and process group id). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Resolves when the process has exited and been reaped. */
  get exited(): Promise<ExitInfo> {
    return this.child.exited;
  }

  /** True once the process has exited. */
  get hasExited(): boolean {
    return this.child.hasExited;
  }

  /** The last lines of its stderr. */
  stderrTail(): string[] {
    return this.tail.snapshot();
  }

  /** Runs every start phase; throws a {@link PluginError} naming the phase that failed and leaves no process behind. */
  static async start(options: PluginProcessOptions): Promise<PluginProcess> {
    const { config } = options;
    const hostEnv = options.hostEnv ?? process.env;
    const timeoutMs = config.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    const cwd = config.cwd ?? process.cwd();
    const deadline = Date.now() + timeoutMs;
    const remaining = () => Math.max(1, deadline - Date.now());
    const tail = new StderrTail(config.stderrTailLines ?? 20);

    if (config.sha256) await verifyChecksum(config.name, config.command, config.sha256, hostEnv.PATH, cwd);
    const clientCert: CertificatePair | undefined =
      config.autoMtls === false ? undefined : await (options.clientCertificate ?? generateCertificate)();
    const accepted = config.protocolVersions ?? [APP_PROTOCOL_VERSION];
    const envInput = {
      hostEnv,
      protocolVersions: accepted,
      unixSocketDir: options.socketDir,
      granted: config.env,
      inheritEnv: config.inheritEnv,
      ...(clientCert ? { clientCertPem: clientCert.certPem } : {}),
      ...(config.tcpPortRange ? { tcpPortRange: config.tcpPortRange } : {}),
    };
    const forwarder = new LogForwarder(config.name, options.sink, tail, secretValues(envInput));
    const spawnedAt = performance.now();
    const child = spawnPlugin({
      command: config.command,
      args: config.args ?? [],
      env: buildPluginEnvironment(envInput),
      ...(config.cwd ? { cwd: config.cwd } : {}),
    });
    child.stderr?.on("data", (chunk: Buffer) => forwarder.write("stderr", chunk));
    const pgid = child.pid;
    if (pgid !== undefined) {
      options.processGroups?.register(pgid);
      // Whenever the leader exits — stopped, crashed or failed to start — what it left in its group goes too.
      child.exited.then(() => {
        child.signalGroup("SIGKILL");
        options.processGroups?.forget(pgid);
      });
    }

    let client: Client | undefined;
    // Fails the start: kills what was started, waits for its exit to report code and stderr.
    const fail = async (phase: PluginPhase, summary: string, extra: { timedOut?: boolean; cause?: unknown } = {}) => {
      client?.close();
      const exit = await stopPluginProcess(child, { gracefulMs: 0, terminateMs: 500 });
      forwarder.flush();
      const exitedByItself = !stoppedByUs.has(child);
      throw new PluginError(
        exit.spawnError ? `cannot start ${JSON.stringify(config.command)}: ${exit.spawnError}` : summary,
        {
          plugin: config.name,
          phase: exit.spawnError ? "spawn" : phase,
          ...(extra.timedOut ? { timeoutMs } : {}),
          ...(exitedByItself && exit.exitCode !== undefined ? { exitCode: exit.exitCode } : {}),
          ...(exitedByItself && exit.signal ? { signal: exit.signal } : {}),
          stderrTail: tail.snapshot(),
          cause: extra.cause,
        },
      );
    };

    // Handshake: the first stdout line, before the deadline, unless the process exits first.
    const exitSignal = new AbortController();
    child.exited.then(() => exitSignal.abort());
    let handshake: Handshake;
    try {
      const { line, rest } = await readHandshakeLine(child.stdout, {
        timeoutMs: remaining(),
        maxBytes: MAX_HANDSHAKE_LINE_BYTES,
        signal: exitSignal.signal,
      });
      child.stdout.on("data", (chunk: Buffer) => forwarder.write("stdout", chunk));
      if (rest.length > 0) forwarder.write("stdout", rest);
      child.stdout.resume();
      handshake = parseHandshake(line);
    } catch (err) {
      if (err instanceof HandshakeReadError) {
        if (err.reason === "eof") {
          await child.exited;
          return fail("handshake", "exited before printing its handshake line", { cause: err });
        }
        return fail(
          "handshake",
          err.reason === "timeout"
            ? `printed no handshake line within the start timeout${err.partial ? `; it printed ${JSON.stringify(err.partial)}` : ""}`
            : `${err.message} (the handshake must be one line of at most ${MAX_HANDSHAKE_LINE_BYTES} bytes)`,
          { timedOut: err.reason === "timeout", cause: err },
        );
      }
      return fail("handshake", `printed something other than a handshake line on stdout: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const handshakeMs = performance.now() - spawnedAt;
    if (!accepted.includes(handshake.appProtocolVersion)) {
      return fail(
        "handshake",
        `speaks app protocol version ${handshake.appProtocolVersion}, but this host accepts only ${accepted.join(", ")}; ` +
          "use a plugin build for this contract version",
      );
    }
    if (clientCert && !handshake.serverCertDer) {
      return fail(
        "handshake",
        "sent no server certificate although AutoMTLS was requested (PLUGIN_CLIENT_CERT was set); " +
          `the plugin does not support AutoMTLS: to connect without TLS, set \`auto_mtls: false\` under plugins.${config.name} in flotilla.yaml, or autoMtls: false in its PluginConfig when embedding the host`,
      );
    }

    // Connect, then check health, then read the registry, then configure; all before the one deadline.
    const withExit = async <T>(phase: PluginPhase, work: Promise<T>): Promise<T> => {
      const died = child.exited.then((exit) => ({ died: exit }));
      const outcome = await Promise.race([
        work.then(
          (value) => ({ value }),
          (error: unknown) => ({ error }),
        ),
        died,
      ]);
      if ("died" in outcome) return fail(phase, `exited during ${phase}`);
      if ("error" in outcome) {
        const err = outcome.error as Error & { phase?: PluginPhase };
        const timedOut = Date.now() >= deadline - 5 || /deadline/i.test(err.message ?? "");
        const tlsHint = /certificate|pin mismatch|self.signed|SSL|TLS/i.test(err.message ?? "")
          ? ` (${PIN_MISMATCH_MESSAGE})`
          : "";
        return fail(err.phase ?? phase, `${err.message}${tlsHint}`, { timedOut, cause: err });
      }
      return outcome.value;
    };
    client = openPluginClient(handshake, clientCert);
    // The first call connects; a connection failure (refused, TLS) surfaces as UNAVAILABLE with grpc-js's
    // "last error", which says more than waitForReady's bare "failed to connect before the deadline".
    const healthCheck = unaryCall(
      client,
      health.Health.method.check,
      { service: HEALTH_SERVICE_NAME },
      { timeoutMs: remaining() },
    );
    const status = await withExit(
      "health",
      healthCheck.catch((err: unknown) => {
        throw isFlotillaError(err, Code.Unavailable) ? Object.assign(err, { phase: "connect" }) : err;
      }),
    );
    forwardStdio(client, forwarder);
    if (status.status !== health.HealthCheckResponse_ServingStatus.SERVING) {
      return fail(
        "health",
        `health check for service "${HEALTH_SERVICE_NAME}" answered ${health.HealthCheckResponse_ServingStatus[status.status]}, not SERVING`,
      );
    }
    const registryResponse = await withExit(
      "registry",
      unaryCall(client, ContractRegistryService.method.getContractRegistry, {}, { timeoutMs: remaining() }),
    );
    const registry = registryResponse.registry;
    if (!registry) return fail("registry", "GetContractRegistry returned no registry");
    if (registry.protocolVersion !== 0 && registry.protocolVersion !== handshake.appProtocolVersion) {
      return fail(
        "registry",
        `registry says protocol version ${registry.protocolVersion} but the handshake said ${handshake.appProtocolVersion}`,
      );
    }
    if (!config.skipConfigure) {
      try {
        checkConfigAgainstSchema(registry.configSchemaJson, config.config ?? {});
      } catch (err) {
        const e = err as ConfigSchemaError;
        return fail(e.phase, e.message, { cause: err });
      }
      const configJson = new TextEncoder().encode(JSON.stringify(config.config ?? {}));
      await withExit(
        "configure",
        unaryCall(
          client,
          IaCProviderService.method.configure,
          { configJson, credentials: [...(config.credentials ?? [])] },
          { timeoutMs: remaining() },
        ),
      );
    }
    const readyMs = performance.now() - spawnedAt;
    return new PluginProcess(config, child, handshake, client, registry, tail, forwarder, { handshakeMs, readyMs });
  }

  /**
   * Stops the process: GRPCController/Shutdown and stdin closed, then SIGTERM,
   * then SIGKILL of the process group, each after its deadline. Idempotent.
   */
  stop(timeouts: StopTimeouts = {}): Promise<ExitInfo> {
    if (!this.stopping) {
      this.stopping = (async () => {
        if (!this.child.hasExited) {
          // Shutdown is best effort: a plugin without a controller still exits on stdin EOF.
          unaryCall(this.client, goplugin.GRPCController.method.shutdown, {}, { timeoutMs: 1000 }).catch(() => {});
        }
        const exit = await stopPluginProcess(this.child, timeouts);
        this.client.close();
        return exit;
      })();
    }
    return this.stopping;
  }
}

const stoppedByUs = new WeakSet<SpawnedPlugin>();

function delay(ms: number): Promise<"timeout"> {
  return new Promise((resolve) => setTimeout(() => resolve("timeout"), ms).unref());
}

/**
 * Closes stdin and waits for the plugin to exit by itself; then stops its group (SIGTERM, SIGKILL after
 * `terminateMs`); in every case SIGKILLs what it left in its group. Always awaits the reaped exit.
 */
export async function stopPluginProcess(child: SpawnedPlugin, timeouts: StopTimeouts): Promise<ExitInfo> {
  if (!child.hasExited) stoppedByUs.add(child);
  child.stdin?.end();
  const gracefulMs = timeouts.gracefulMs ?? 2000;
  const terminateMs = timeouts.terminateMs ?? 2000;
  if (gracefulMs > 0 && (await Promise.race([child.exited, delay(gracefulMs)])) !== "timeout") {
    child.signalGroup("SIGKILL"); // grandchildren the plugin left in its group
    return child.exited;
  }
  if (child.pid !== undefined && !child.hasExited) {
    await terminateProcessGroup(child.pid, { leaderExited: child.exited, graceMs: terminateMs });
  } else {
    child.signalGroup("SIGKILL");
  }
  return child.exited;
}

/** Consumes plugin.GRPCStdio (a Go plugin blocks if nobody does) into the log forwarder. */
function forwardStdio(client: Client, forwarder: LogForwarder): void {
  (async () => {
    for await (const chunk of serverStreamCall(client, goplugin.GRPCStdio.method.streamStdio, {})) {
      forwarder.write("stdio", Buffer.from(chunk.data));
    }
  })().catch(() => {
    // Unimplemented (plugins without stdio forwarding) or the process ended: nothing to forward.
  });
}
