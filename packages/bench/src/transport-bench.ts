/**
 * The host→plugin call section of the bench: opens each pair on its own
 * socket, compares them in one interleaved run, and relates every pair to the
 * raw HTTP/2 floor.
 */
import { type ComparisonPlan, comparePairs } from "./compare.js";
import { type ClientKind, openPair, pairName } from "./pairs.js";
import { type TransportRow, transportRows } from "./report.js";
import type { ServerKind } from "./server-kinds.js";
import { createSocketDir } from "./socket-dir.js";
import type { UnaryPair } from "./unary-pair.js";

/** Something that can open one measured pair on a given Unix socket path. */
export interface PairFactory {
  /** The label of the pair it opens, known before opening so a failure can be reported under it. */
  readonly name: string;
  /** Opens the pair (starting its server process). */
  open(socketPath: string): Promise<UnaryPair>;
}

/** A factory for a client kind talking to a server kind, both from this package. */
export function libraryPair(client: ClientKind, server: ServerKind): PairFactory {
  return { name: pairName(client, server), open: (socketPath) => openPair(client, server, socketPath) };
}

/** A pair that could not be opened, and why; reported instead of aborting the whole bench. */
export interface FailedPair {
  /** The pair's label. */
  readonly name: string;
  /** The error's message. */
  readonly reason: string;
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

/**
 * Opens the floor and `pairs`, measures them under `plan`, closes them all;
 * the floor is row 0. A pair that fails to open is listed in `failed` (the
 * floor failing is fatal: there is nothing to compare with).
 */
export async function benchTransports(
  pairs: readonly PairFactory[],
  plan: ComparisonPlan,
): Promise<{ rows: TransportRow[]; failed: FailedPair[] }> {
  const sockets = createSocketDir();
  const opened: UnaryPair[] = [];
  const failed: FailedPair[] = [];
  try {
    opened.push(await floorPair.open(sockets.socketPath("floor")));
    for (const [index, factory] of pairs.entries()) {
      try {
        opened.push(await factory.open(sockets.socketPath(`p${index}`)));
      } catch (error) {
        failed.push({ name: factory.name, reason: error instanceof Error ? error.message : String(error) });
      }
    }
    const measurements = await comparePairs(opened, plan);
    return { rows: transportRows(measurements, measurements[0] as (typeof measurements)[number]), failed };
  } finally {
    await Promise.all(opened.map((pair) => pair.close()));
    sockets.remove();
  }
}
