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

/**
 * What every handler receives besides its request. `Config` is the type of
 * the plugin's provider config, as its {@link PluginDefinition.config}
 * declares it.
 */
export interface HandlerContext<Config = unknown> {
  /** Aborted when the caller cancels, the call's deadline passes, or the plugin shuts down. */
  readonly signal: AbortSignal;
  /** The call's deadline, when the caller set one. */
  readonly deadline: Date | undefined;
  /** Request metadata (gRPC headers), lower-cased keys. */
  readonly metadata: Readonly<Record<string, string>>;
  /** The plugin's logger. */
  readonly logger: PluginLogger;
  /**
   * The provider config the last successful Configure applied: checked
   * against the declared schema, defaults filled in, typed from the
   * declaration. Inside `configure`, the config being applied. Read before any
   * Configure succeeded, it throws FailedPreconditionError ("not configured
   * yet"), unless the declaration sets `defaultsBeforeConfigure`. Undefined
   * when the plugin declares no config.
   */
  readonly config: Config;
}

/** A unary handler: may return a plain object of the response's init shape. */
export type UnaryHandler<I, O, Config = unknown> = (request: I, context: HandlerContext<Config>) => Promise<O> | O;

/** A server-streaming handler: yields responses; ends the stream by returning. */
export type ServerStreamingHandler<I, O, Config = unknown> = (
  request: I,
  context: HandlerContext<Config>,
) => AsyncIterable<O>;

/**
 * The implementation of one service: every method of it, typed from the
 * generated descriptor. A service with a method missing is rejected by
 * `serve()` at start-up, naming the method.
 */
export type ServiceImpl<S extends GenService<GenServiceMethods>, Config = unknown> = {
  [K in keyof S["method"]]: S["method"][K] extends DescMethodUnary<infer I, infer O>
    ? UnaryHandler<MessageShape<I>, MessageInitShape<O>, Config>
    : S["method"][K] extends DescMethodServerStreaming<infer I, infer O>
      ? ServerStreamingHandler<MessageShape<I>, MessageInitShape<O>, Config>
      : never;
};

/**
 * The required provider service. `describe` defaults to name, version and no
 * capabilities; `configure` may be left out when the plugin declares
 * `config` (the SDK then checks and keeps the config on its own).
 */
export type ProviderImpl<Config = unknown> = Partial<
  Pick<ServiceImpl<typeof IaCProviderService, Config>, "configure" | "describe">
>;

/** A JSON Schema document (draft 2020-12) as a plain object. */
export type JsonSchema = Record<string, unknown>;

/**
 * A provider config declared once: the schema the registry publishes and
 * Configure checks, and the typed config it yields. `defineConfig` makes one.
 */
export interface ConfigDeclaration<Config> {
  /** How errors name the config, e.g. "aws provider config". */
  readonly what: string;
  /** The JSON Schema published as ContractRegistry.config_schema_json; `writeOnly: true` marks secrets. */
  readonly schema: JsonSchema;
  /** Whether handlers called before Configure see the schema's defaults rather than "not configured yet". */
  readonly defaultsBeforeConfigure: boolean;
  /**
   * Configure's config_json (empty means `{}`) checked against `schema`,
   * then the declaration's rules, defaults filled in. Throws
   * InvalidArgumentError naming every bad key, never a value.
   */
  parse(configJson: Uint8Array | string): Config;
}

/** Everything `serve()` needs to run a plugin. */
export interface PluginDefinition<Config = unknown> {
  /** Plugin name, e.g. "aws": lower case letters, digits and dashes. */
  name: string;
  /** Plugin version, semver. */
  version: string;
  /**
   * The provider config, declared once (`defineConfig`): the registry
   * publishes its schema, Configure checks each config against it before
   * `provider.configure` runs, and every handler reads the result as
   * `context.config`.
   */
  config?: ConfigDeclaration<Config>;
  /**
   * A JSON Schema published as is, when the plugin checks its config itself
   * in `configure`; leave it out when `config` is declared.
   */
  configSchema?: JsonSchema;
  /** JSON Schema of the JobTarget (protobuf JSON form) accepted by the runner; `defineJobTarget` builds one. */
  targetSchema?: JsonSchema;
  /** IaCProviderService, which every plugin serves; may be left out when `config` is declared and there is nothing to build. */
  provider?: ProviderImpl<Config>;
  /** Optional IaCProviderRunnerService: advertised exactly when given. */
  runner?: ServiceImpl<typeof IaCProviderRunnerService, Config>;
  /** Optional ResourceDriverService: advertised exactly when given. */
  resourceDriver?: ServiceImpl<typeof ResourceDriverService, Config>;
  /** Optional RegionListerService: advertised exactly when given. */
  regionLister?: ServiceImpl<typeof RegionListerService, Config>;
  /** Optional DriftDetectorService: advertised exactly when given. */
  driftDetector?: ServiceImpl<typeof DriftDetectorService, Config>;
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
