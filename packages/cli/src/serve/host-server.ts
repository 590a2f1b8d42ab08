/**
 * The network side of `flotilla serve`: one HTTP/2 server speaking gRPC, gRPC-Web and the Connect protocol
 * (connect-node serves all three from one handler), on a TCP port or a Unix socket, with authentication in
 * front of every call.
 *
 * Authentication: a bearer token (`authorization: Bearer <token>`, compared in constant time), or a client
 * certificate signed by the configured CA (mTLS), or — only on a Unix socket and only when asked for — no
 * credentials at all, the socket's file mode (0600: its owner alone) standing in for them. A server with no
 * way to authenticate its clients does not start. The gRPC health and reflection services answer without
 * credentials (see OPEN_SERVICES), so load balancers, `grpc_health_probe`, grpcurl and `buf curl` work.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { chmodSync, existsSync, lstatSync, unlinkSync } from "node:fs";
import http2 from "node:http2";
import { connect as netConnect } from "node:net";
import type { TLSSocket } from "node:tls";
import { create } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  createContextKey,
  createContextValues,
  type Interceptor,
} from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { health, reflection } from "@flotilla/protocol/wire";
import { CliError } from "../cli-error.js";

/** Where the server listens: `unix:/path/to.sock`, `HOST:PORT` or `:PORT` (all interfaces). */
export type ListenAddress = { kind: "unix"; path: string } | { kind: "tcp"; host: string; port: number };

/** Options of {@link startHostServer}. */
export interface HostServerOptions {
  readonly listen: ListenAddress;
  /** The bearer token clients must send. Never logged or echoed. */
  readonly token?: string;
  /** TLS: the server's certificate and key (PEM); with `clientCa`, clients may authenticate with a certificate it signed. */
  readonly tls?: { readonly cert: string; readonly key: string; readonly clientCa?: string };
  /** Serve a Unix socket without credentials; its mode (0600) limits it to the user running the server. */
  readonly allowUnauthenticatedSocket?: boolean;
  /** Registers the services (besides health, which is always there). */
  readonly routes: (router: ConnectRouter) => void;
}

/** A running server. */
export interface HostServer {
  /** Where it listens: `unix:/path` or `host:port` with the port actually bound. */
  readonly address: string;
  /** Stops taking calls, ends the ones in flight and removes the socket file. */
  close(): Promise<void>;
}

/** Parses `--listen`; a RangeError names the value and the forms that work. */
export function parseListenAddress(text: string): ListenAddress {
  if (text.startsWith("unix:")) {
    const path = text.slice("unix:".length);
    if (!path.startsWith("/")) {
      throw new RangeError(
        `--listen ${JSON.stringify(text)}: a Unix socket needs an absolute path, e.g. unix:/run/flotilla/host.sock`,
      );
    }
    return { kind: "unix", path };
  }
  const match = /^(\[[^\]]+\]|[^:]*):(\d{1,5})$/.exec(text);
  const port = Number(match?.[2]);
  if (!match || port > 65535) {
    throw new RangeError(
      `--listen ${JSON.stringify(text)} is not an address to listen on; use HOST:PORT (127.0.0.1:7070), :PORT for every interface, or unix:/absolute/path.sock`,
    );
  }
  const host = (match[1] ?? "").replace(/^\[|\]$/g, "");
  return { kind: "tcp", host: host === "" ? "::" : host, port };
}

/**
 * Answered without credentials: health says SERVING and nothing else, and reflection describes the API,
 * which is public (proto/ in the repository). Generic tools call both before any credentials apply
 * (`buf curl` sends its -H headers with the call, not with the reflection that resolves it).
 */
const OPEN_SERVICES = new Set([health.Health.typeName, reflection.ServerReflection.typeName]);

const certificateAuthenticated = createContextKey(false, {
  description: "client presented a certificate the CA signed",
});

/** Starts the server; fails with an Error that says what to configure when no client could authenticate. */
export async function startHostServer(options: HostServerOptions): Promise<HostServer> {
  const { listen, token, tls } = options;
  const unauthenticatedSocket = options.allowUnauthenticatedSocket === true;
  if (unauthenticatedSocket && listen.kind !== "unix") {
    throw new RangeError(
      "--allow-unauthenticated-socket applies to a Unix socket only: on a TCP port anyone who can reach it could run jobs; listen on unix:/path, or keep the port and use a token or mTLS",
    );
  }
  if (!token && !tls?.clientCa && !unauthenticatedSocket) {
    throw new RangeError(
      "flotilla serve has no way to authenticate clients: set FLOTILLA_SERVE_TOKEN (or --token-file) for bearer tokens, give --tls-client-ca for client certificates, or, on a Unix socket only, --allow-unauthenticated-socket",
    );
  }
  const expected = token === undefined ? undefined : digest(token);
  const authenticate: Interceptor = (next) => async (request) => {
    if (OPEN_SERVICES.has(request.service.typeName)) return next(request);
    if (unauthenticatedSocket) return next(request);
    if (request.contextValues.get(certificateAuthenticated)) return next(request);
    const header = request.header.get("authorization") ?? "";
    const given = /^Bearer (.+)$/i.exec(header)?.[1];
    if (expected && given !== undefined && timingSafeEqual(digest(given), expected)) return next(request);
    throw new ConnectError(
      given === undefined
        ? `this host requires authentication: send the header "authorization: Bearer <token>" with the token the server was started with${tls?.clientCa ? ", or a client certificate its CA signed" : ""}`
        : "the bearer token is not the one this host was started with",
      Code.Unauthenticated,
    );
  };

  const handler = connectNodeAdapter({
    grpc: true,
    grpcWeb: true,
    connect: true,
    interceptors: [authenticate],
    contextValues: (req) =>
      createContextValues().set(certificateAuthenticated, (req.socket as Partial<TLSSocket>).authorized === true),
    routes: (router) => {
      router.service(health.Health, healthService());
      options.routes(router);
    },
  });

  const server = tls
    ? http2.createSecureServer(
        {
          cert: tls.cert,
          key: tls.key,
          // Browsers' gRPC-Web and Connect calls may come over HTTP/1.1 (ALPN decides).
          allowHTTP1: true,
          ...(tls.clientCa
            ? // A client without a certificate may still use a token when one is set; with none, mTLS is the only way in.
              { ca: tls.clientCa, requestCert: true, rejectUnauthorized: expected === undefined }
            : {}),
        },
        handler,
      )
    : http2.createServer(handler);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });

  if (listen.kind === "unix") await removeStaleSocket(listen.path);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    const ready = () => {
      server.off("error", reject);
      resolve();
    };
    if (listen.kind === "unix") {
      // Created owner-only from the start: a chmod after listen would leave a moment in which the umask decides.
      const umask = process.umask(0o177);
      try {
        server.listen({ path: listen.path }, ready);
      } finally {
        process.umask(umask);
      }
    } else server.listen({ host: listen.host, port: listen.port }, ready);
  }).catch((error: NodeJS.ErrnoException) => {
    const where = listen.kind === "unix" ? `unix:${listen.path}` : `${listen.host}:${listen.port}`;
    throw new CliError(
      error.code === "EADDRINUSE"
        ? `cannot listen on ${where}: another process is listening there (another flotilla serve?); stop it or choose another --listen`
        : `cannot listen on ${where}: ${error.message}`,
    );
  });
  if (listen.kind === "unix") chmodSync(listen.path, 0o600);

  const bound = server.address();
  const address =
    listen.kind === "unix"
      ? `unix:${listen.path}`
      : typeof bound === "object" && bound
        ? `${bound.family === "IPv6" ? `[${bound.address}]` : bound.address}:${bound.port}`
        : `${listen.host}:${listen.port}`;
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          if (listen.kind === "unix" && existsSync(listen.path)) unlinkSync(listen.path);
          resolve();
        });
        // Streams in flight (a followed log) would hold the server open: end them.
        for (const session of sessions) session.close();
        setTimeout(() => {
          for (const session of sessions) session.destroy();
        }, 2000).unref();
      }),
  };
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** A socket file left by a server that died is removed; one a live server answers on is not. */
async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return;
  }
  if (!isSocket) {
    throw new CliError(
      `cannot listen on unix:${path}: a file that is not a socket is there; remove it or choose another path`,
    );
  }
  const live = await new Promise<boolean>((resolve) => {
    const probe = netConnect(path);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
  if (live) {
    throw new CliError(
      `cannot listen on unix:${path}: another process is listening there (another flotilla serve?); stop it or choose another --listen`,
    );
  }
  unlinkSync(path);
}

/** grpc.health.v1: SERVING while the server runs. */
function healthService() {
  const serving = () =>
    create(health.HealthCheckResponseSchema, { status: health.HealthCheckResponse_ServingStatus.SERVING });
  return {
    check: serving,
    async *watch(_request: unknown, context: { signal: AbortSignal }) {
      yield serving();
      await new Promise<void>((resolve) => context.signal.addEventListener("abort", () => resolve(), { once: true }));
    },
  };
}
