/**
 * A plugin's config between Configure calls: the "not configured yet" guard,
 * the Configure step the SDK runs before the author's `configure` (check the
 * config against the declared schema, fill in defaults, keep it only once
 * `configure` accepted it), and the secrets any config carried, so logs and
 * errors can mask them.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  type ConfigureRequest,
  type ConfigureResponseSchema,
  FailedPreconditionError,
  maskSecretValues,
  redactSensitive,
  sensitiveValues,
} from "@flotilla/protocol";
import type { ConfigDeclaration, HandlerContext, PluginLogger, ProviderImpl } from "./definition.js";
import { errorField } from "./logger.js";

/**
 * A value a plugin only has once Configure succeeded: its config, or what it
 * builds from it (SDK clients, pollers). `get()` before `set()` throws the
 * one "not configured yet" error, a FailedPreconditionError naming the plugin
 * and the fix.
 */
export class Configured<T> {
  #slot: { value: T } | undefined;

  /** `pluginName` names the plugin in the error, e.g. "aws". */
  constructor(private readonly pluginName: string) {}

  /** The value; throws FailedPreconditionError when none was set yet. */
  get(): T {
    if (!this.#slot) throw notConfiguredError(this.pluginName);
    return this.#slot.value;
  }

  /** Whether a value was set. */
  get isSet(): boolean {
    return this.#slot !== undefined;
  }

  /** Sets the value; returns the one it replaced, e.g. to dispose of it. */
  set(value: T): T | undefined {
    const previous = this.#slot?.value;
    this.#slot = { value };
    return previous;
  }

  /** Forgets the value (later `get()` calls throw again); returns it. */
  clear(): T | undefined {
    const previous = this.#slot?.value;
    this.#slot = undefined;
    return previous;
  }
}

/** The error of a call that needs the config before any Configure succeeded. */
export function notConfiguredError(pluginName: string): FailedPreconditionError {
  return new FailedPreconditionError(
    `the ${pluginName} plugin is not configured yet: call IaCProviderService/Configure with its provider config first ` +
      "(a host does so right after starting the plugin; check that call's error if it failed)",
  );
}

/**
 * Secret values seen in any config, masked in free text (log messages and
 * fields, error messages). Values shorter than {@link SecretMask.minLength}
 * are not masked: replacing every "on" or "1" would garble the text and hide
 * nothing worth hiding.
 */
export class SecretMask {
  static readonly minLength = 4;
  private readonly values = new Set<string>();
  // Longest first, so a secret containing another is replaced whole.
  private ordered: string[] = [];

  /** Adds values to mask. */
  add(values: Iterable<string>): void {
    let added = false;
    for (const value of values) {
      if (value.length < SecretMask.minLength || this.values.has(value)) continue;
      this.values.add(value);
      added = true;
    }
    if (added) this.ordered = [...this.values].sort((a, b) => b.length - a.length);
  }

  /** Whether there is anything to mask. */
  get empty(): boolean {
    return this.ordered.length === 0;
  }

  /** A copy of `value` with every known secret in its strings replaced by `[redacted]`. */
  mask<T>(value: T): T {
    return maskSecretValues(value, this.ordered);
  }

  /** A logger that masks every message and field before `logger` writes it. */
  logger(logger: PluginLogger): PluginLogger {
    const write =
      (level: keyof PluginLogger) =>
      (message: string, fields?: Record<string, unknown>): void => {
        if (this.empty) {
          logger[level](message, fields);
          return;
        }
        // An Error's message may quote a secret too: write it in the logger's form, then mask that.
        const plain =
          fields &&
          Object.fromEntries(
            Object.entries(fields).map(([key, value]) => [key, value instanceof Error ? errorField(value) : value]),
          );
        logger[level](this.mask(message), plain && this.mask(plain));
      };
    return { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error") };
  }
}

type ConfigureHandler<Config> = NonNullable<ProviderImpl<Config>["configure"]>;
type ConfigureResponseInit = MessageInitShape<typeof ConfigureResponseSchema>;

/** The config of one running plugin: what `context.config` reads and what the SDK's Configure step keeps. */
export class ConfigState<Config> {
  /** Every sensitive value any Configure request carried. */
  readonly secrets = new SecretMask();
  private readonly configured: Configured<Config>;

  constructor(
    private readonly pluginName: string,
    private readonly declaration: ConfigDeclaration<Config> | undefined,
  ) {
    this.configured = new Configured(pluginName);
  }

  /**
   * The current config (`context.config`); throws "not configured yet" before
   * one was accepted. With `defaultsBeforeConfigure`, the defaults until then,
   * worked out on first use (so a plugin's start-up does not load the schema
   * checker), or "not configured yet" when `{}` is not a valid config.
   */
  current(): Config {
    if (!this.declaration) return undefined as Config;
    if (!this.configured.isSet && this.declaration.defaultsBeforeConfigure) {
      let defaults: Config;
      try {
        defaults = this.declaration.parse("");
      } catch {
        throw notConfiguredError(this.pluginName);
      }
      this.configured.set(defaults);
    }
    return this.configured.get();
  }

  /**
   * The Configure handler to serve: checks the request's config against the
   * declaration, hands the typed config to the author's `configure` (when
   * given) as `context.config`, and keeps it once that succeeded. A config
   * that fails either step leaves the previous one in place.
   */
  configureHandler(author: ConfigureHandler<Config> | undefined): ConfigureHandler<Config> {
    const declaration = this.declaration;
    if (!declaration) {
      return author ?? (() => ({}));
    }
    return async (request: ConfigureRequest, context: HandlerContext<Config>): Promise<ConfigureResponseInit> => {
      // Before the check, so a message naming a secret (a rule's, the author's) is masked too.
      this.secrets.add(sensitiveValuesOfJson(request.configJson, declaration.schema));
      const config = declaration.parse(request.configJson);
      const response = author
        ? await author(request, {
            signal: context.signal,
            deadline: context.deadline,
            metadata: context.metadata,
            logger: context.logger,
            config,
          })
        : {};
      this.configured.set(config);
      context.logger.debug("provider configured", { config: redactSensitive(config, declaration.schema) });
      return response ?? {};
    };
  }
}

function sensitiveValuesOfJson(configJson: Uint8Array, schema: unknown): string[] {
  try {
    return sensitiveValues(JSON.parse(new TextDecoder().decode(configJson)), schema);
  } catch {
    // Not JSON: parse() rejects it without quoting it.
    return [];
  }
}
