/**
 * The `exec_environments` section of flotilla.yaml (also accepted through the
 * host API): a map of environment names to settings, each with a `kind`.
 * Validated against one JSON Schema per kind, so an error names the key path,
 * what was expected there and what was found, e.g.
 * `exec_environments.k8s-eu.namespace: must be a DNS label (...), got number 42`.
 */
import { checkAgainstSchema, type SchemaNode } from "@flotilla/protocol";

/** Names a user cannot give an environment: `provider-ephemeral` always means "the resolved provider's runner". */
export const RESERVED_ENVIRONMENT_NAMES = ["provider-ephemeral"] as const;

/** Every kind of entry the section accepts. */
export const EXEC_ENVIRONMENT_KINDS = [
  "local",
  "local-docker",
  "kubernetes",
  "argo",
  "ephemeral",
  "provider",
  "http",
] as const;

/** One kind. */
export type ExecEnvironmentKind = (typeof EXEC_ENVIRONMENT_KINDS)[number];

const maxConcurrent = {
  type: "integer",
  minimum: 1,
  "x-expected": "a whole number of at least 1: how many runs may be in progress at once (more wait in a queue)",
};
const seconds = (what: string) => ({
  type: "number",
  minimum: 0,
  "x-expected": `a number of seconds, 0 or more: ${what}`,
});
const name = (what: string) => ({
  type: "string",
  pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
  maxLength: 63,
  "x-expected": `a DNS label (lower case letters, digits, '-'): ${what}`,
});

/** JSON Schemas of the entry of each kind. */
export const execEnvironmentSchemas: Record<ExecEnvironmentKind, Record<string, unknown>> = {
  local: {
    type: "object",
    additionalProperties: false,
    "x-expected": "local settings: kind, max_concurrent, inherit_env",
    properties: {
      kind: { const: "local" },
      max_concurrent: maxConcurrent,
      inherit_env: {
        type: "boolean",
        "x-expected": "true or false: whether commands see the host's whole environment",
      },
    },
  },
  "local-docker": {
    type: "object",
    additionalProperties: false,
    "x-expected": "local-docker settings: kind, socket_path or host, pull, failed_retention_seconds, max_concurrent",
    properties: {
      kind: { const: "local-docker" },
      socket_path: {
        type: "string",
        minLength: 1,
        "x-expected": "a path to the Docker Engine API socket, e.g. /var/run/docker.sock",
      },
      host: {
        type: "string",
        pattern: "^https?://",
        "x-expected": "an http(s) URL of the Docker Engine API, e.g. http://127.0.0.1:2375",
      },
      pull: { enum: ["missing", "never"], "x-expected": '"missing" (pull images the engine lacks) or "never"' },
      failed_retention_seconds: seconds("how long a failed container is kept for inspection"),
      max_concurrent: maxConcurrent,
    },
  },
  kubernetes: {
    type: "object",
    additionalProperties: false,
    required: ["namespace"],
    "x-expected":
      "kubernetes settings: kind, namespace, kubeconfig, context, service_account, poll_interval_seconds, failed_retention_seconds, pending_timeout_seconds, max_concurrent",
    properties: {
      kind: { const: "kubernetes" },
      namespace: name("the namespace the Pods are created in"),
      kubeconfig: {
        type: "string",
        minLength: 1,
        "x-expected": "a path to a kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster)",
      },
      context: { type: "string", minLength: 1, "x-expected": "the name of a context in the kubeconfig" },
      service_account: name("the service account the Pods run as"),
      poll_interval_seconds: seconds("how often Pod status is read"),
      failed_retention_seconds: seconds("how long a failed Pod is kept for inspection"),
      pending_timeout_seconds: seconds(
        "how long a Pod may stay unable to start (unschedulable, image pull back-off, missing Secret) or Unknown before the run fails and the Pod is deleted (default 300)",
      ),
      max_concurrent: maxConcurrent,
    },
  },
  argo: {
    type: "object",
    additionalProperties: false,
    required: ["url", "namespace"],
    "x-expected": "an Argo server instance: kind, url, namespace, token_env",
    properties: {
      kind: { const: "argo" },
      url: {
        type: "string",
        pattern: "^https?://",
        "x-expected": "the Argo server's http(s) URL, e.g. https://argo.example.com:2746",
      },
      namespace: name("the namespace workflows are submitted to"),
      token_env: {
        type: "string",
        pattern: "^[A-Za-z_][A-Za-z0-9_]*$",
        "x-expected": "the name of an environment variable holding the Argo bearer token (never the token itself)",
      },
    },
  },
  ephemeral: {
    type: "object",
    additionalProperties: false,
    "x-expected":
      "ephemeral (Argo) settings: kind, argo_module, poll_interval_seconds, ttl_seconds_after_completion, ttl_seconds_after_failure, service_account, pending_timeout_seconds, max_concurrent",
    properties: {
      kind: { const: "ephemeral" },
      argo_module: {
        type: "string",
        minLength: 1,
        "x-expected": "the name of an entry of kind argo in exec_environments",
      },
      poll_interval_seconds: seconds("how often workflow status is read (default 2)"),
      ttl_seconds_after_completion: seconds("how long Argo keeps a finished workflow (default 300)"),
      ttl_seconds_after_failure: seconds("how long Argo keeps a failed workflow"),
      pending_timeout_seconds: seconds(
        "how long a workflow may stay unable to start (controller lag, image pull, missing Secret, unschedulable) before the run fails and the workflow is deleted (default 300)",
      ),
      service_account: name("the service account the workflow's pod runs as"),
      max_concurrent: maxConcurrent,
    },
  },
  http: {
    type: "object",
    additionalProperties: false,
    "x-expected":
      "inline HTTP executor settings: kind, max_attempts, base_delay_seconds, max_delay_seconds, max_response_bytes",
    properties: {
      kind: { const: "http" },
      max_attempts: {
        type: "integer",
        minimum: 1,
        maximum: 20,
        "x-expected": "a whole number from 1 to 20: tries per call, the first included",
      },
      base_delay_seconds: seconds("the backoff cap before jitter for the first retry (doubles each retry)"),
      max_delay_seconds: seconds("the longest wait between tries, Retry-After included"),
      max_response_bytes: {
        type: "integer",
        minimum: 1,
        "x-expected": "a whole number of bytes, at least 1: the largest response body accepted",
      },
    },
  },
  provider: {
    type: "object",
    additionalProperties: false,
    required: ["provider"],
    "x-expected": "a named provider runner: kind, provider, target, poll_interval_seconds, max_concurrent",
    properties: {
      kind: { const: "provider" },
      provider: {
        type: "string",
        minLength: 1,
        "x-expected": "the name of a provider plugin that advertises IaCProviderRunner",
      },
      target: { type: "object", "x-expected": 'a JobTarget in protobuf JSON, e.g. {"awsEcs": {"cluster": "jobs"}}' },
      poll_interval_seconds: seconds("how often JobStatus is called"),
      max_concurrent: maxConcurrent,
    },
  },
};

/** A validated `exec_environments` section: name → settings (snake_case keys as in flotilla.yaml). */
export type ExecEnvironmentsConfig = Record<string, { kind: ExecEnvironmentKind } & Record<string, unknown>>;

/** The section is invalid; `problems` lists each one, path first. */
export class ExecConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`exec_environments is invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ExecConfigError";
    this.problems = problems;
  }
}

/** What every entry must be before its kind's schema applies. */
const entrySchema = {
  type: "object",
  "x-expected": "a mapping with at least a kind",
  required: ["kind"],
  properties: {
    kind: { enum: [...EXEC_ENVIRONMENT_KINDS], "x-expected": `one of ${EXEC_ENVIRONMENT_KINDS.join(", ")}` },
  },
} as const;

const sectionSchema = { type: "object", "x-expected": "a map of environment names to settings" } as const;

function problemsAgainst(value: unknown, schema: object, key: string): string[] {
  return checkAgainstSchema(value, schema as SchemaNode, key).map((problem) => `${problem.key}: ${problem.reason}`);
}

/**
 * Validates the section; returns it typed, or throws {@link ExecConfigError} listing every problem,
 * in the words of `checkAgainstSchema` (@flotilla/protocol) that every config check of Flotilla uses.
 */
export function validateExecEnvironments(section: unknown): ExecEnvironmentsConfig {
  if (section === undefined || section === null) return {};
  const sectionProblems = problemsAgainst(section, sectionSchema, "exec_environments");
  if (sectionProblems.length > 0 || Array.isArray(section)) {
    throw new ExecConfigError(
      sectionProblems.length > 0
        ? sectionProblems
        : ["exec_environments: must be a map of environment names to settings, got an array"],
    );
  }
  const problems: string[] = [];
  for (const [envName, entry] of Object.entries(section as object)) {
    const path = `exec_environments.${envName}`;
    if ((RESERVED_ENVIRONMENT_NAMES as readonly string[]).includes(envName)) {
      problems.push(
        `${path}: "${envName}" is reserved (it always dispatches to the resolved provider's runner); choose another name, e.g. "${envName}-custom"`,
      );
      continue;
    }
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(envName)) {
      problems.push(
        `${path}: the name must be lower case letters, digits and '-', starting and ending with a letter or digit`,
      );
      continue;
    }
    const entryProblems = problemsAgainst(entry, entrySchema, path);
    if (entryProblems.length > 0) {
      problems.push(...entryProblems);
      continue;
    }
    const kind = (entry as { kind: ExecEnvironmentKind }).kind;
    problems.push(...problemsAgainst(entry, execEnvironmentSchemas[kind], path));
    if (kind === "local-docker" && "socket_path" in entry && "host" in entry) {
      problems.push(`${path}: set socket_path or host, not both`);
    }
  }
  if (problems.length > 0) throw new ExecConfigError([...new Set(problems)]);
  return section as ExecEnvironmentsConfig;
}
