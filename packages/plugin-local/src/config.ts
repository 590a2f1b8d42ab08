/**
 * The local provider's configuration (`plugins.local.config` in
 * flotilla.yaml) and the JSON Schemas it publishes in its ContractRegistry.
 */
import { checkAgainstSchema, formatProblems, InvalidArgumentError, type SchemaNode } from "@flotilla/protocol";
import { DEFAULT_SECRETS_DIR } from "./secret-ref.js";

/** The local provider's configuration, with defaults applied. */
export interface LocalConfig {
  /** Working directory of jobs that do not set one; undefined keeps the plugin's. */
  workingDir: string | undefined;
  /** Lines kept in memory per job; older ones are read back from the job's log file. */
  maxLogLines: number;
  /** Milliseconds between SIGTERM and SIGKILL when a job is cancelled or times out. */
  killGraceMs: number;
  /** Whether jobs inherit the plugin's environment (PATH, HOME, ...) under their own env. */
  inheritEnv: boolean;
  /** Directory `secret://file/NAME` references read from. */
  secretsDir: string;
  /** Directory job records are kept in so later plugin processes can answer for them; undefined keeps jobs in memory only. */
  stateDir: string | undefined;
  /** Jobs run under a supervisor of their own and outlive the plugin (needs stateDir). */
  durableJobs: boolean;
}

/** The configuration used until (and unless) Configure sets another. */
export const defaultLocalConfig: LocalConfig = {
  workingDir: undefined,
  maxLogLines: 100_000,
  killGraceMs: 2_000,
  inheritEnv: true,
  secretsDir: DEFAULT_SECRETS_DIR,
  stateDir: undefined,
  durableJobs: false,
};

/** JSON Schema (draft 2020-12) of the config accepted by Configure. */
export const localConfigSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  title: "Local provider configuration",
  type: "object",
  additionalProperties: false,
  properties: {
    working_dir: { type: "string", minLength: 1, description: "Working directory of jobs that set none." },
    max_log_lines: {
      type: "integer",
      minimum: 1,
      default: defaultLocalConfig.maxLogLines,
      description:
        "Most recent lines kept in memory per job (also at most 1 MiB of text); every line is also on disk (the job record under state_dir, else an unlinked temp file), and a reader that falls behind reads older lines from there.",
    },
    kill_grace_ms: {
      type: "integer",
      minimum: 0,
      // An hour is far past any graceful stop; the bound keeps the wait within Node's timer limit.
      maximum: 3_600_000,
      default: defaultLocalConfig.killGraceMs,
      description: "Milliseconds between SIGTERM and SIGKILL of a cancelled or timed-out job's process group.",
    },
    inherit_env: {
      type: "boolean",
      default: defaultLocalConfig.inheritEnv,
      description: "Jobs start with the plugin's own environment under JobSpec.env.",
    },
    state_dir: {
      type: "string",
      minLength: 1,
      description:
        "Directory for job records (status and log), so jobs can be asked about after the plugin that ran them stopped. Unset: memory only.",
    },
    secrets_dir: {
      type: "string",
      minLength: 1,
      default: DEFAULT_SECRETS_DIR,
      description: "Directory that secret://file/NAME references read NAME from.",
    },
    durable_jobs: {
      type: "boolean",
      default: defaultLocalConfig.durableJobs,
      description:
        "Run each job under a supervisor process of its own, so it outlives the plugin (and its host: a host killed and restarted finds it running, any later plugin follows its log and cancels it). Needs state_dir. Off: jobs stop with the plugin.",
    },
  },
} as const;

/** JSON Schema of the JobTarget (protobuf JSON form) the local provider accepts. */
export const localTargetSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  title: "Local provider job target",
  description:
    'Unset, or {"local": {...}}. shell: run the first word of command (then args) as a /bin/sh -c script, the remaining words as its positional parameters $1, $2, ... (each kept whole, spaces included), e.g. command ["echo \\"$1\\"", "a b"] prints "a b".',
  type: "object",
  additionalProperties: false,
  properties: {
    local: {
      type: "object",
      additionalProperties: false,
      properties: {
        shell: {
          type: "boolean",
          default: false,
          description:
            "false: exec command + args directly. true: /bin/sh -c <first word> sh <other words>: the first word is the script, the others its $1, $2, ...",
        },
      },
    },
  },
} as const;

/**
 * Parses Configure's config_json. Empty bytes mean "defaults". Errors name
 * the key, what was found and what is expected.
 */
export function parseLocalConfig(configJson: Uint8Array): LocalConfig {
  const text = new TextDecoder().decode(configJson).trim();
  if (text === "") return { ...defaultLocalConfig };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`local provider config is not valid JSON: ${(err as Error).message}`);
  }
  // The schema this plugin publishes is the one it checks against, in the words every Flotilla config check uses.
  const problems = checkAgainstSchema(raw, localConfigSchema as unknown as SchemaNode);
  if (problems.length > 0) throw new InvalidArgumentError(`local provider config: ${formatProblems(problems)}`);
  const given = raw as {
    working_dir?: string;
    max_log_lines?: number;
    kill_grace_ms?: number;
    inherit_env?: boolean;
    state_dir?: string;
    secrets_dir?: string;
    durable_jobs?: boolean;
  };
  const config = { ...defaultLocalConfig };
  if (given.working_dir !== undefined) config.workingDir = given.working_dir;
  if (given.max_log_lines !== undefined) config.maxLogLines = given.max_log_lines;
  if (given.kill_grace_ms !== undefined) config.killGraceMs = given.kill_grace_ms;
  if (given.inherit_env !== undefined) config.inheritEnv = given.inherit_env;
  if (given.state_dir !== undefined) config.stateDir = given.state_dir;
  if (given.secrets_dir !== undefined) config.secretsDir = given.secrets_dir;
  if (given.durable_jobs !== undefined) config.durableJobs = given.durable_jobs;
  if (config.durableJobs && config.stateDir === undefined) {
    throw new InvalidArgumentError(
      "local provider config: durable_jobs needs state_dir (a durable job's supervisor records its status and log there for later plugin processes); set state_dir, or leave durable_jobs off",
    );
  }
  return config;
}
