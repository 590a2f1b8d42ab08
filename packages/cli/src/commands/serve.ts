/**
 * `flotilla serve`: the host API (proto/flotilla/host/v1) for clients in any language, over gRPC, gRPC-Web
 * and the Connect protocol, until SIGINT or SIGTERM.
 *
 * Jobs go through the same job journal as `flotilla run` and `flotilla jobs` (flotilla.yaml's `journal`), so
 * each sees the others' jobs. The server follows the jobs it starts; on start it takes over the unfinished
 * jobs nobody follows any more (a server that was killed, a `flotilla run --detach`), and looks for more
 * every few seconds, so servers sharing a PostgreSQL journal carry each other's jobs on. Local jobs run as
 * durable jobs, apart from the plugin process, so stopping or restarting the server loses none: stopping it
 * leaves every job running, and the next server picks them up.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { hostv1 } from "@flotilla/protocol";
import { health, reflection } from "@flotilla/protocol/wire";
import { CliError } from "../cli-error.js";
import { CliHost } from "../cli-host.js";
import { defaultProviderOf } from "../config/flotilla-config.js";
import { loadConfig } from "../config/load-config.js";
import { openCliJobs } from "../job-journal.js";
import { flotillaStateDir, providerNames } from "../provider-plugins.js";
import { hostApi } from "../serve/host-api.js";
import { type ListenAddress, parseListenAddress, startHostServer } from "../serve/host-server.js";
import { reflectionService } from "../serve/reflection.js";

/** How often the server looks for unfinished jobs nobody follows, to take them over. */
export const RESUME_INTERVAL_MS = 5000;

/** How often the server prunes the journal down to the newest `--keep-finished` finished jobs. */
export const PRUNE_INTERVAL_MS = 3_600_000;

/** How many finished jobs the journal keeps by default (with their logs); older ones are pruned. */
export const DEFAULT_KEEP_FINISHED = 10_000;

/** The environment variable holding the bearer token clients must send. */
export const SERVE_TOKEN_ENV = "FLOTILLA_SERVE_TOKEN";

/** Options of `flotilla serve`. */
export interface ServeOptions {
  config?: string;
  /** `unix:/path`, `HOST:PORT` or `:PORT`; default: unix socket `host.sock` in Flotilla's state directory. */
  listen?: string;
  /** A file holding the bearer token (instead of FLOTILLA_SERVE_TOKEN). */
  tokenFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  /** CA whose client certificates authenticate (mTLS). */
  tlsClientCa?: string;
  allowUnauthenticatedSocket?: boolean;
  /** Finished jobs the journal keeps (newest first); default {@link DEFAULT_KEEP_FINISHED}. */
  keepFinished?: string;
  verbose?: boolean;
}

interface ServeIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Receives SIGINT/SIGTERM; default `process`. */
  signals?: Pick<NodeJS.Process, "once" | "off">;
  env?: NodeJS.ProcessEnv;
}

/** Where `flotilla serve` listens by default. */
export function defaultListenAddress(env: NodeJS.ProcessEnv = process.env): string {
  return `unix:${join(flotillaStateDir(env), "host.sock")}`;
}

/** Runs the server until a signal; returns the exit code. */
export async function serveCommand(options: ServeOptions, io: ServeIo): Promise<number> {
  const env = io.env ?? process.env;
  // Everything the user gave is checked before a plugin starts or the journal opens.
  const listen: ListenAddress = parseListenAddress(options.listen ?? defaultListenAddress(env));
  const token = readToken(options, env);
  const keepFinished = parseKeepFinished(options.keepFinished);
  const tls = readTls(options);
  const { config } = loadConfig(options.config);
  const providers = providerNames(config);
  const defaultProvider = defaultProviderOf(config);
  if (listen.kind === "unix") mkdirSync(dirname(listen.path), { recursive: true, mode: 0o700 });

  const cli = new CliHost({ verbose: options.verbose ?? false, stderr: io.stderr });
  // Durable local jobs: they outlive the plugin process, so a server that stops or restarts loses none.
  const jobs = await openCliJobs(config, cli, { grants: { durableLocalJobs: true } });
  let server: Awaited<ReturnType<typeof startHostServer>> | undefined;
  let resumeTimer: NodeJS.Timeout | undefined;
  let pruneTimer: NodeJS.Timeout | undefined;
  // Listened for from the start: a signal while the server starts up stops it cleanly too.
  const signals = io.signals ?? process;
  let onSignal: (signal: NodeJS.Signals) => void = () => {};
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    onSignal = resolve;
    signals.once("SIGINT", onSignal);
    signals.once("SIGTERM", onSignal);
  });
  try {
    server = await startHostServer({
      listen,
      ...(token === undefined ? {} : { token }),
      ...(tls ? { tls } : {}),
      allowUnauthenticatedSocket: options.allowUnauthenticatedSocket ?? false,
      routes: (router) => {
        // grpcurl and `buf curl` learn the API from the server; health is served by startHostServer.
        router.service(reflection.ServerReflection, reflectionService([hostv1.HostService, health.Health]));
        router.service(
          hostv1.HostService,
          hostApi({
            jobs: jobs.service,
            host: cli.host,
            defaultProvider,
            providers,
            startProvider: (name) => jobs.runnerOf(name),
          }),
        );
      },
    });
    // The address on stdout (scripts read it, e.g. the port bound for :0); what it is on stderr.
    io.stdout.write(`${server.address}\n`);
    io.stderr.write(
      `flotilla: serving the host API (gRPC, gRPC-Web, Connect) on ${server.address}; journal ${jobs.service.journal.location}; stop with Ctrl-C\n`,
    );
    // Jobs nobody follows (their server died, or a `flotilla run --detach`) are taken over at start and then
    // every RESUME_INTERVAL_MS: with a shared journal, a surviving server carries a dead one's jobs on
    // without waiting for a client to ask about them.
    const takeOver = async (): Promise<void> => {
      const taken = await jobs.service.tracker.resume().catch((error: Error) => {
        io.stderr.write(
          `flotilla: warning: could not take over the unfinished jobs of the journal: ${error.message}\n`,
        );
        return [];
      });
      if (taken.length > 0)
        io.stderr.write(`flotilla: following ${taken.length} unfinished job(s) nobody else followed\n`);
    };
    await takeOver();
    // The journal keeps every job's whole log: without pruning, a long-running server's journal only grows.
    const prune = async (): Promise<void> => {
      const pruned = await jobs.service.journal.prune(keepFinished).catch((error: Error) => {
        io.stderr.write(`flotilla: warning: could not prune the job journal: ${error.message}\n`);
        return 0;
      });
      if (pruned > 0)
        io.stderr.write(
          `flotilla: pruned ${pruned} finished job(s) from the journal (keeping the newest ${keepFinished})\n`,
        );
    };
    await prune();
    pruneTimer = setInterval(() => void prune(), PRUNE_INTERVAL_MS);
    let resuming = false;
    resumeTimer = setInterval(() => {
      if (resuming) return;
      resuming = true;
      void takeOver().finally(() => {
        resuming = false;
      });
    }, RESUME_INTERVAL_MS);
    const signal = await stopped;
    io.stderr.write(`flotilla: ${signal}: stopping the server; jobs keep running and the next server follows them\n`);
    return 0;
  } finally {
    clearInterval(resumeTimer);
    clearInterval(pruneTimer);
    signals.off("SIGINT", onSignal);
    signals.off("SIGTERM", onSignal);
    await server?.close();
    await jobs.close();
    await cli.stop();
  }
}

function parseKeepFinished(text: string | undefined): number {
  if (text === undefined) return DEFAULT_KEEP_FINISHED;
  if (!/^\d+$/.test(text)) {
    throw new CliError(
      `--keep-finished ${JSON.stringify(text)} is not a number of jobs; give how many finished jobs the journal keeps, e.g. --keep-finished 1000`,
    );
  }
  return Number(text);
}

function readToken(options: ServeOptions, env: NodeJS.ProcessEnv): string | undefined {
  if (options.tokenFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(options.tokenFile, "utf8");
    } catch (error) {
      throw new CliError(
        `--token-file ${options.tokenFile}: cannot read it (${(error as NodeJS.ErrnoException).code})`,
      );
    }
    const token = text.trim();
    if (!token)
      throw new CliError(`--token-file ${options.tokenFile} is empty; put the bearer token clients send in it`);
    return token;
  }
  const fromEnv = env[SERVE_TOKEN_ENV]?.trim();
  return fromEnv ? fromEnv : undefined;
}

function readTls(options: ServeOptions): { cert: string; key: string; clientCa?: string } | undefined {
  const { tlsCert, tlsKey, tlsClientCa } = options;
  if (tlsCert === undefined && tlsKey === undefined) {
    if (tlsClientCa !== undefined) {
      throw new CliError("--tls-client-ca needs the server's own certificate too: add --tls-cert and --tls-key");
    }
    return undefined;
  }
  if (tlsCert === undefined || tlsKey === undefined) {
    throw new CliError("TLS needs both --tls-cert and --tls-key (PEM files): the server's certificate and its key");
  }
  const read = (flag: string, path: string) => {
    try {
      return readFileSync(path, "utf8");
    } catch (error) {
      throw new CliError(`${flag} ${path}: cannot read it (${(error as NodeJS.ErrnoException).code})`);
    }
  };
  return {
    cert: read("--tls-cert", tlsCert),
    key: read("--tls-key", tlsKey),
    ...(tlsClientCa === undefined ? {} : { clientCa: read("--tls-client-ca", tlsClientCa) }),
  };
}
