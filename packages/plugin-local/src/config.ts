/**
 * The local provider's configuration (`plugins.local.config` in
 * flotilla.yaml) and its job target, each declared once
 * (`defineConfig`, `defineJobTarget` of the SDK): the schemas its ContractRegistry
 * publishes, the checks Configure and RunJob apply, defaults, and the types
 * the runner reads.
 */
import { type ConfigOf, defineConfig, defineJobTarget } from "@flotilla/plugin-sdk";
import { DEFAULT_SECRETS_DIR } from "./secret-ref.js";

const localConfigSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  title: "Local provider configuration",
  type: "object",
  additionalProperties: false,
  properties: {
    working_dir: { type: "string", minLength: 1, description: "Working directory of jobs that set none." },
    max_log_lines: {
      type: "integer",
      minimum: 1,
      default: 100_000,
      description:
        "Most recent lines kept in memory per job (also at most 1 MiB of text); every line is also on disk (the job record under state_dir, else an unlinked temp file), and a reader that falls behind reads older lines from there.",
    },
    kill_grace_ms: {
      type: "integer",
      minimum: 0,
      // An hour is far past any graceful stop; the bound keeps the wait within Node's timer limit.
      maximum: 3_600_000,
      default: 2_000,
      description: "Milliseconds between SIGTERM and SIGKILL of a cancelled or timed-out job's process group.",
    },
    inherit_env: {
      type: "boolean",
      default: true,
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
      default: false,
      description:
        "Run each job under a supervisor process of its own, so it outlives the plugin (and its host: a host killed and restarted finds it running, any later plugin follows its log and cancels it). Needs state_dir. Off: jobs stop with the plugin.",
    },
  },
} as const;

/**
 * The local provider's config, declared once. It works unconfigured: until
 * (and unless) Configure sets another, the defaults apply.
 */
export const localConfig = defineConfig({
  what: "local provider config",
  schema: localConfigSchema,
  defaultsBeforeConfigure: true,
  rules: (given) =>
    given.durable_jobs && given.state_dir === undefined
      ? [
          {
            key: "durable_jobs",
            reason:
              "needs state_dir (a durable job's supervisor records its status and log there for later plugin processes); set state_dir, or leave durable_jobs off",
          },
        ]
      : [],
});

/** The local provider's configuration, with defaults applied. */
export type LocalConfig = ConfigOf<typeof localConfigSchema>;

/** The job target, declared once: unset, or JobTarget.local. */
export const localTarget = defineJobTarget({
  plugin: "local",
  kind: "local",
  title: "Local provider job target",
  description:
    'Unset, or {"local": {...}}. shell: run the first word of command (then args) as a /bin/sh -c script, the remaining words as its positional parameters $1, $2, ... (each kept whole, spaces included), e.g. command ["echo \\"$1\\"", "a b"] prints "a b".',
  schema: {
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
});
