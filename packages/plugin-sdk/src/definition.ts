/**
 * The types a plugin author writes against: one typed handler per method of
 * each contract service, and the plugin definition handed to `serve()`.
 */
import type {
  DescMethodServerStreaming,
  DescMethodUnary,
  DescService,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import type {
  ConformanceJobsSchema,
  DriftDetectorService,
  IaCProviderRunnerService,
  IaCProviderService,
  RegionListerService,
  ResourceDriverService,
} from "@flotilla/protocol";

/** Structured logger whose records reach the host, tagged with the plugin name. */
export interface PluginLogger {
  /** Detail for debugging; hidden by default on the host. */
  debug(message: string, fields?: Record<string, unknown>): void;
  /** Normal operation. */
  info(message: string, fields?: Record<string, unknown>): void;
  /** Something unexpected that the plugin handled. */
  warn(message: string, fields?: Record<string, unknown>): void;
  /** A failure. */
  error(message: string, fields?: Record<string, unknown>): void;
}

/** What every handler receives besides its request. */
export interface HandlerContext {
  /** Aborted when the caller cancels, the call's deadline passes, or the plugin shuts down. */
  readonly signal: AbortSignal;
  /** The call's deadline, when the caller set one. */
  readonly deadline: Date | undefined;
  /** Request metadata (gRPC headers), lower-cased keys. */
  readonly metadata: Readonly<Record<string, string>>;
  /** The plugin's logger. */
  readonly logger: PluginLogger;
}

/** A unary handler: may return a plain object of the response's init shape. */
export type UnaryHandler<I, O> = (request: I, context: HandlerContext) => Promise<O> | O;

/** A server-streaming handler: yields responses; ends the stream by returning. */
export type ServerStreamingHandler<I, O> = (request: I, context: HandlerContext) => AsyncIterable<O>;

/**
 * The implementation of one service: every method of it, typed from the
 * generated descriptor. A service with a method missing is rejected by
 * `serve()` at start-up, naming the method.
 */
export type ServiceImpl<S extends GenService<GenServiceMethods>> = {
  [K in keyof S["method"]]: S["method"][K] extends DescMethodUnary<infer I, infer O>
    ? UnaryHandler<MessageShape<I>, MessageInitShape<O>>
    : S["method"][K] extends DescMethodServerStreaming<infer I, infer O>
      ? ServerStreamingHandler<MessageShape<I>, MessageInitShape<O>>
      : never;
};

/** The required provider service; `describe` defaults to name, version and no capabilities. */
export type ProviderImpl = Pick<ServiceImpl<typeof IaCProviderService>, "configure"> &
  Partial<Pick<ServiceImpl<typeof IaCProviderService>, "describe">>;

/** A JSON Schema document (draft 2020-12) as a plain object. */
export type JsonSchema = Record<string, unknown>;

/** Everything `serve()` needs to run a plugin. */
export interface PluginDefinition {
  /** Plugin name, e.g. "aws": lower case letters, digits and dashes. */
  name: string;
  /** Plugin version, semver. */
  version: string;
  /** JSON Schema of the provider config accepted by `configure`. */
  configSchema?: JsonSchema;
  /** JSON Schema of the JobTarget (protobuf JSON form) accepted by the runner. */
  targetSchema?: JsonSchema;
  /** The required IaCProviderService. */
  provider: ProviderImpl;
  /** Optional IaCProviderRunnerService: advertised exactly when given. */
  runner?: ServiceImpl<typeof IaCProviderRunnerService>;
  /** Optional ResourceDriverService: advertised exactly when given. */
  resourceDriver?: ServiceImpl<typeof ResourceDriverService>;
  /** Optional RegionListerService: advertised exactly when given. */
  regionLister?: ServiceImpl<typeof RegionListerService>;
  /** Optional DriftDetectorService: advertised exactly when given. */
  driftDetector?: ServiceImpl<typeof DriftDetectorService>;
  /**
   * The jobs `flotilla plugin test` runs to check the runner, published in the registry as the
   * plugin's promise that they run once it is configured: `quick` succeeds within seconds printing
   * at least two lines, `longRunning` prints a line and runs until cancelled (give it a timeout).
   * Only with `runner`.
   */
  conformanceJobs?: MessageInitShape<typeof ConformanceJobsSchema>;
  /**
   * Called once when a graceful shutdown starts, whatever started it (the
   * host's GRPCController/Shutdown, SIGTERM, stdin EOF with the lifeline, the
   * parent gone): the place to stop work the plugin started, e.g. send
   * SIGTERM to child processes so their own clean-up runs. It runs while
   * in-flight calls drain, and the plugin exits only after it settles or the
   * grace period (`serve()`'s `gracePeriodMs`) runs out, whichever is first;
   * `signal` aborts when the grace period runs out, so finish quickly then.
   * Keep it well inside the host's own patience: the Flotilla host sends
   * SIGTERM about 2 s after Shutdown. A thrown error is logged and ignored.
   */
  onShutdown?: (signal: AbortSignal) => Promise<void> | void;
}

/** Re-exported for authors who build handlers generically. */
export type { DescService };
