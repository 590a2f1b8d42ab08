/**
 * Typed config and job targets, declared once.
 *
 * A plugin writes its provider config and its job target as plain JSON Schema
 * objects (draft 2020-12) and gets, from that one declaration: the document
 * its ContractRegistry publishes (the object itself), the TypeScript type its
 * handlers read (`context.config`, inferred from the object by TypeBox's
 * `Static`, at compile time only), the check Configure applies (the same
 * `checkAgainstSchema` the host runs on the same published document),
 * defaults filled in, and which values are secrets (`writeOnly: true`, see
 * {@link sensitive}) so logs, errors and `flotilla plugin inspect` redact
 * them.
 *
 * TypeBox is used for its types only: nothing here loads it at run time, so
 * declaring a typed config costs a plugin's start-up nothing.
 */
import { type DescField, type DescMessage, toJson } from "@bufbuild/protobuf";
import {
  applySchemaDefaults,
  checkAgainstSchema,
  formatProblems,
  InvalidArgumentError,
  type JobTarget,
  JobTargetSchema,
  type SchemaNode,
  type SchemaProblem,
} from "@flotilla/protocol";
import type { Static } from "typebox";
import type { ConfigDeclaration, JsonSchema } from "./definition.js";

/**
 * Marks a schema node as a secret (a token, a password): returns it with
 * `writeOnly: true`, JSON Schema's annotation for a value that is sent but
 * never read back. The SDK then masks the value in logs and errors, and
 * `flotilla plugin inspect` lists it as sensitive. It changes nothing about
 * what is valid. Prefer credential references (ConfigureRequest.credentials)
 * for secrets; mark those a config still has to carry.
 */
export function sensitive<const T extends object>(node: T): T & { readonly writeOnly: true } {
  return { ...node, writeOnly: true };
}

type Evaluate<T> = { [K in keyof T]: T[K] } & {};

/** The members an object schema lists in `required`. */
type RequiredOf<S> = S extends { readonly required: readonly (infer R)[] } ? R : never;

/** The members of `properties` that have a `default`. */
type DefaultedOf<P> = { [K in keyof P]: P[K] extends { readonly default: unknown } ? K : never }[keyof P];

/** Members present once parsed: required ones and those with a default. */
type PresentOf<S, P> = RequiredOf<S> | DefaultedOf<P>;

/**
 * The type of a value parsed against the JSON Schema `S`: TypeBox's `Static`,
 * except that an object member with a `default` is always present (Configure
 * fills it in).
 */
export type ConfigOf<S> = S extends { readonly type: "object"; readonly properties: infer P }
  ? Evaluate<
      { -readonly [K in keyof P as K extends PresentOf<S, P> ? K : never]: ConfigOf<P[K]> } & {
        -readonly [K in keyof P as K extends PresentOf<S, P> ? never : K]?: ConfigOf<P[K]>;
      }
    >
  : Static<S & {}>;

/** `T` as a `const` declaration writes it: arrays and objects read-only, at any depth. */
type AsWritten<T> = T extends readonly (infer U)[]
  ? readonly AsWritten<U>[]
  : T extends object
    ? { readonly [K in keyof T]: AsWritten<T[K]> }
    : T;

/** The members of `properties` whose `default` is not a value of their own schema. */
type BadDefaultsOf<P> = {
  [K in keyof P]: P[K] extends { readonly default: infer D }
    ? [D] extends [AsWritten<ConfigOf<Omit<P[K], "default">>>]
      ? never
      : K
    : never;
}[keyof P];

/** A compile error naming the members whose default does not fit their schema. */
type DefaultsCheck<S> = S extends { readonly properties: infer P }
  ? [BadDefaultsOf<P>] extends [never]
    ? unknown
    : { "these members' default is not a value of their schema": BadDefaultsOf<P> }
  : unknown;

/** An object schema as a plugin declares one. */
export interface ObjectSchema {
  readonly type: "object";
  readonly properties: Readonly<Record<string, object>>;
  readonly required?: readonly string[];
  readonly [keyword: string]: unknown;
}

/** Options of {@link defineConfig}. */
export interface ConfigOptions<S extends ObjectSchema> {
  /** How errors name the config, e.g. "aws provider config". */
  what: string;
  /**
   * The config's JSON Schema, written as a literal (or declared `as const`) so
   * its type can be inferred; give it `$schema`, `title` and
   * `additionalProperties: false` as a published schema should. A member's
   * `default` must be a value of its schema (a compile error otherwise).
   */
  schema: S;
  /**
   * Rules across keys that the schema cannot say clearly ("set launchType or
   * capacityProvider, not both"), run on the config as written once it
   * passed the schema. Problems read like schema problems: a key and a reason,
   * never a value.
   */
  rules?: (given: Static<S & {}>) => SchemaProblem[];
  /**
   * Handlers called before Configure see the schema's defaults instead of a
   * "not configured yet" error: for a plugin that works unconfigured, like
   * the local one. When `{}` is not a valid config they still get "not
   * configured yet".
   */
  defaultsBeforeConfigure?: boolean;
}

/** A declared config: what `PluginDefinition.config` takes, plus its schema and defaults. */
export interface TypedConfig<S extends ObjectSchema> extends ConfigDeclaration<ConfigOf<S>> {
  /** The schema as declared (the published document). */
  readonly schema: S & JsonSchema;
  /** The config `{}` parses to: every default. Throws when a key is required. */
  defaults(): ConfigOf<S>;
}

/**
 * Declares a provider config once. Hand the result to
 * `PluginDefinition.config`: the registry publishes `schema`, Configure parses
 * with it before your `configure` runs, and handlers read the typed result as
 * `context.config`. `parse` is the same step, for tests and tools.
 */
export function defineConfig<const S extends ObjectSchema>(
  options: ConfigOptions<S> & { schema: DefaultsCheck<S> },
): TypedConfig<S> {
  const { what, schema, rules } = options;
  const parse = (configJson: Uint8Array | string): ConfigOf<S> => {
    const text = typeof configJson === "string" ? configJson : new TextDecoder().decode(configJson);
    const given = parseJson(text.trim() === "" ? "{}" : text, what, "send a JSON object, e.g. {}");
    return checked(given, schema, "", `${what} is invalid`, rules as ((given: unknown) => SchemaProblem[]) | undefined);
  };
  return {
    what,
    schema: schema as S & JsonSchema,
    defaultsBeforeConfigure: options.defaultsBeforeConfigure ?? false,
    parse,
    defaults: () => parse(""),
  };
}

/**
 * JSON.parse, failing with an InvalidArgumentError that names `what`, says where the text
 * stops being JSON and how to fix it, but never quotes it: V8's own message shows the text
 * around the error, which may be a secret.
 */
export function parseJson(text: string, what: string, fix: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const at = /line (\d+) column (\d+)/.exec(message) ?? /position (\d+)/.exec(message);
    const where = at ? (at[2] ? ` at line ${at[1]} column ${at[2]}` : ` at position ${at[1]}`) : "";
    const early = /end of JSON input|Unterminated/.test(message) ? " (it ends too early)" : "";
    throw new InvalidArgumentError(`${what} is not valid JSON${where}${early}; ${fix}`);
  }
}

/** `given` checked against `schema` and `rules`, defaults filled in; throws InvalidArgumentError with every problem. */
function checked<T>(
  given: unknown,
  schema: object,
  key: string,
  invalid: string,
  rules?: (given: unknown) => SchemaProblem[],
): T {
  const node = schema as SchemaNode;
  const problems = checkAgainstSchema(given, node, key);
  if (problems.length === 0 && rules) problems.push(...rules(given));
  if (problems.length > 0) throw new InvalidArgumentError(`${invalid}: ${formatProblems(problems)}`);
  return applySchemaDefaults<T>(given, node);
}

/** The JobTarget kinds a plugin may run, as protobuf-es names the oneof cases ("awsEcs", "local", "customJson"). */
export type JobTargetKind = NonNullable<JobTarget["kind"]["case"]>;

type TargetMessage<K extends JobTargetKind> = Extract<JobTarget["kind"], { case: K }>["value"];
type TargetFields<K extends JobTargetKind> = Omit<TargetMessage<K>, "$typeName" | "$unknown">;

/**
 * For a message kind, the schema must describe fields of that message with
 * their types: a member the message does not have, or of another type, is a
 * compile error naming it. (The JSON form of every target field today is its
 * TypeScript form: strings, booleans, string lists.)
 */
type TargetSchemaCheck<K extends JobTargetKind, S extends ObjectSchema> = K extends "customJson"
  ? unknown
  : [Exclude<keyof ConfigOf<S>, keyof TargetFields<K>>] extends [never]
    ? ConfigOf<S> extends Partial<TargetFields<K>>
      ? unknown
      : { "the schema's types differ from the target message's": TargetFields<K> }
    : { "the schema names fields the target message does not have": Exclude<keyof ConfigOf<S>, keyof TargetFields<K>> };

/** Options of {@link defineJobTarget}. */
export interface JobTargetOptions<K extends JobTargetKind, S extends ObjectSchema> {
  /** The plugin's name, for errors ("the aws plugin runs jobs with target.aws_ecs ..."). */
  plugin: string;
  /** Which JobTarget kind the plugin runs. */
  kind: K;
  /**
   * The target's schema: the fields of that message in their protobuf JSON
   * form (lowerCamelCase names), or for "customJson" the JSON object itself.
   */
  schema: S;
  /** Title of the published schema. */
  title?: string;
  /** Description of the published schema. */
  description?: string;
}

/** A declared job target. */
export interface TypedJobTarget<K extends JobTargetKind, S extends ObjectSchema> {
  /** The kind declared. */
  readonly kind: K;
  /** The document to publish as `PluginDefinition.targetSchema` (JobTarget in protobuf JSON form). */
  readonly schema: JsonSchema;
  /** The target's own schema, as declared. */
  readonly targetSchema: S;
  /**
   * A job's target checked and typed: unset means `{}`, another kind is an
   * InvalidArgumentError naming both, fields unset in the message are absent
   * (protobuf JSON leaves them out), problems are named
   * `target.<field>.<member>`, defaults filled in.
   */
  read(target: JobTarget | undefined): ConfigOf<S>;
}

const SCHEMA_DRAFT = "https://json-schema.org/draft/2020-12/schema";

/**
 * Declares the job target a plugin runs, once: the schema to publish as
 * `targetSchema`, and `read` to check a job's target against that very
 * schema and type it. For a message kind the target's type is checked
 * against the protobuf message at compile time.
 */
export function defineJobTarget<K extends JobTargetKind, const S extends ObjectSchema>(
  options: JobTargetOptions<K, S> & TargetSchemaCheck<K, S> & { schema: DefaultsCheck<S> },
): TypedJobTarget<K, S> {
  const { plugin, kind, schema } = options;
  const field = JobTargetSchema.fields.find((f) => f.localName === kind) as DescField;
  const annotations = {
    $schema: SCHEMA_DRAFT,
    ...(options.title ? { title: options.title } : {}),
    ...(options.description ? { description: options.description } : {}),
  };
  const published: JsonSchema =
    kind === "customJson"
      ? { ...annotations, ...JSON.parse(JSON.stringify(schema)) }
      : {
          ...annotations,
          type: "object",
          additionalProperties: false,
          properties: { [field.jsonName]: schema },
        };
  const key = `target.${field.name}`;
  return {
    kind,
    schema: published,
    targetSchema: schema,
    read(target) {
      const given = target?.kind.case;
      if (given !== undefined && given !== kind) {
        const other = JobTargetSchema.fields.find((f) => f.localName === given)?.name ?? given;
        throw new InvalidArgumentError(
          `JobSpec.target: the ${plugin} plugin runs jobs with ${key} or no target, got target.${other}; run this job through the plugin that owns target.${other}`,
        );
      }
      let value: unknown = {};
      if (target?.kind.case === "customJson") {
        value = parseJson(new TextDecoder().decode(target.kind.value), key, "send a JSON object");
      } else if (target?.kind.case !== undefined) {
        value = toJson(field.message as DescMessage, target.kind.value as never);
      }
      return checked(value, schema, key, "JobSpec target is invalid");
    },
  };
}
