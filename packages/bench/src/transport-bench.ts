/**
 * The host→plugin call section of the bench: opens each pair on its own
 * socket, compares them in one interleaved run, and relates every pair to the
 * raw HTTP/2 floor.
 */
import { type ComparisonPlan, comparePairs } from "./compare.js";
import { type ClientKind, openPair } from "./pairs.js";
import { type TransportRow, transportRows } from "./report.js";
import type { ServerKind } from "./server-kinds.js";
import { createSocketDir } from "./socket-dir.js";
import type { UnaryPair } from "./unary-pair.js";

/** Something that can open one measured pair on a given Unix socket path. */
export type PairFactory = (socketPath: string) => Promise<UnaryPair>;

/** A factory for a client kind talking to a server kind, both from this package. */
export function libraryPair(client: ClientKind, server: ServerKind): PairFactory {
  return (socketPath) => openPair(client, server, socketPath);
}

/** The floor: raw node:http2 on both sides. */
export const floorPair: PairFactory = libraryPair("raw-http2", "raw-http2");

/** The pairs `npm run bench` always measures after the floor. */
export const defaultPairs: readonly PairFactory[] = [
  libraryPair("grpc-js", "grpc-js"),
  libraryPair("connect:default", "connect"),
];

/**
 * The extra pairs of `--study` (docs/transport.md): each library's client
 * against the other's server, which splits the cost between the two sides,
 * and the connect-node client options that might have closed the gap.
 */
export const studyPairs: readonly PairFactory[] = [
  libraryPair("connect:default", "grpc-js"),
  libraryPair("grpc-js", "connect"),
  libraryPair("connect:socket-path", "grpc-js"),
  libraryPair("connect:no-accept-compression", "grpc-js"),
  libraryPair("connect:interceptor", "grpc-js"),
  libraryPair("connect:timeout", "grpc-js"),
  libraryPair("connect:session-manager", "grpc-js"),
];

/** Opens the floor and `pairs`, measures them under `plan`, closes them all; the floor is row 0. */
export async function benchTransports(pairs: readonly PairFactory[], plan: ComparisonPlan): Promise<TransportRow[]> {
  const sockets = createSocketDir();
  const opened: UnaryPair[] = [];
  try {
    for (const [index, open] of [floorPair, ...pairs].entries())
      opened.push(await open(sockets.socketPath(`p${index}`)));
    const measurements = await comparePairs(opened, plan);
    return transportRows(measurements, measurements[0] as (typeof measurements)[number]);
  } finally {
    await Promise.all(opened.map((pair) => pair.close()));
    sockets.remove();
  }
}
