/**
 * The one shape every measured transport takes: a client connected to a
 * server that runs in another process (as a plugin does), able to make one
 * unary call of the benchmark's fixed size.
 */

/** A connected client/server pair the bench can time. */
export interface UnaryPair {
  /** Short label used in the report, e.g. "grpc-js → grpc-js". */
  readonly name: string;
  /** Process id of the server side, for CPU and memory readings from /proc. */
  readonly serverPid: number;
  /** One complete unary round trip; resolves when the whole response has arrived. */
  call(): Promise<void>;
  /** Closes the client and stops the server process. */
  close(): Promise<void>;
}
