/**
 * The server implementations the bench can start in a server process, by name.
 */
import { startConnectServer } from "./connect-pair.js";
import { startGrpcJsServer } from "./grpc-js-pair.js";
import { type RunningServer, startRawHttp2Server } from "./raw-http2.js";

/** Server implementations the bench can start, by name. */
export const serverKinds = {
  "raw-http2": startRawHttp2Server,
  "grpc-js": startGrpcJsServer,
  connect: startConnectServer,
} as const satisfies Record<string, (socketPath: string) => Promise<RunningServer>>;

/** A key of {@link serverKinds}. */
export type ServerKind = keyof typeof serverKinds;

/** Narrows a command-line word to a {@link ServerKind}. */
export function isServerKind(kind: string | undefined): kind is ServerKind {
  return kind !== undefined && Object.hasOwn(serverKinds, kind);
}
