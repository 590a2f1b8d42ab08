/**
 * The GCP plugin's provider configuration and job target: their JSON Schemas
 * (published in the ContractRegistry so the host can reject a bad config
 * before starting anything) and the parsing that applies the same schemas
 * inside the plugin, failing with the key and the reason before any Google
 * call is made.
 */
import { checkAgainstSchema, formatProblems, parseJson, type SchemaNode } from "@flotilla/plugin-sdk";
import { type GcpCloudRunTarget, InvalidArgumentError, type JobTarget } from "@flotilla/protocol";
import { type GcpEndpoint, parseGcpEndpoint } from "./endpoint.js";

/**
 * "The project ID must be a unique string of 6 to 30 lowercase letters,
 * digits, or hyphens. It must start with a letter, and cannot have a trailing
 * hyphen." (Resource Manager docs, "Creating and managing projects").
 */
const projectPattern = "^[a-z][-a-z0-9]{4,28}[a-z0-9]$";
/** Cloud Run regions, e.g. europe-west1, us-central1, northamerica-northeast2. */
const regionPattern = "^[a-z]+-[a-z]+\\d+$";
/** A service account email, e.g. jobs@my-project.iam.gserviceaccount.com. */
const serviceAccountPattern = "^[^@\\s]+@[^@\\s]+$";
/**
 * A Serverless VPC Access connector (`projects/P/locations/L/connectors/C`
 * or its short name) or, for Direct VPC egress, `network:NAME[/subnetwork:SUB]`.
 */
const vpcPattern =
  "^(projects/[^/]+/locations/[^/]+/connectors/[^/]+|[a-z][-a-z0-9]{0,24}|network:[^/\\s]+(/subnetwork:[^/\\s]+)?)$";

/** "Maximum number of task retries in a job — 10" (Cloud Run quotas page). */
export const maxTaskRetries = 10;
/** "Maximum tasks timeout value — 24 hours" (Cloud Run quotas page). */
export const maxTaskTimeoutSeconds = 24 * 3600;

/** JSON Schema (draft 2020-12) of the provider config accepted by Configure. */
export const gcpConfigSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  title: "Flotilla GCP provider configuration",
  type: "object",
  additionalProperties: false,
  required: ["project", "region"],
  properties: {
    project: { type: "string", pattern: projectPattern, description: "Google Cloud project id, e.g. my-project" },
    region: { type: "string", pattern: regionPattern, description: "Cloud Run region for jobs, e.g. europe-west1" },
    serviceAccount: {
      type: "string",
      pattern: serviceAccountPattern,
      description: "service account email jobs run as; default the project's Compute Engine default service account",
    },
    vpcConnector: {
      type: "string",
      pattern: vpcPattern,
      description:
        "egress for jobs: a Serverless VPC Access connector (name or projects/P/locations/L/connectors/C) or Direct VPC as network:NAME[/subnetwork:SUB]",
    },
    maxRetries: {
      type: "integer",
      minimum: 0,
      maximum: maxTaskRetries,
      description: "retries of a failed task; default 0 (Cloud Run's own default is 3, which reruns failed jobs)",
    },
    taskTimeoutSeconds: {
      type: "integer",
      minimum: 1,
      maximum: maxTaskTimeoutSeconds,
      description: "task timeout when the JobSpec gives none; default 600 (Cloud Run's default)",
    },
    endpoint: {
      type: "string",
      minLength: 3,
      description: "HOST:PORT of the Cloud Run and Cloud Logging APIs instead of Google's (tests, emulators)",
    },
    insecureEndpoint: {
      type: "boolean",
      description: "plain-text gRPC without credentials to `endpoint`: for a local fake only; default false",
    },
    universeDomain: { type: "string", minLength: 1, description: 'default "googleapis.com"' },
    deleteFinishedJobs: {
      type: "boolean",
      description:
        "delete a job's Cloud Run Job once its execution finished (Cloud Run keeps at most 1000 jobs per region); default true",
    },
    statusPollIntervalMs: {
      type: "integer",
      minimum: 10,
      maximum: 600000,
      description: "how often tracked executions are polled; default 2000",
    },
    logPollIntervalMs: {
      type: "integer",
      minimum: 10,
      maximum: 600000,
      description: "how often a followed log is read; default 2000",
    },
    logReadsPerMinute: {
      type: "integer",
      minimum: 1,
      maximum: 100000,
      description:
        "entries.list calls per minute shared by every followed log of the project (Cloud Logging allows 60 per project); default 50",
    },
    logSettleMs: {
      type: "integer",
      minimum: 0,
      maximum: 600000,
      description:
        "lines younger than this are read later, so a line Cloud Logging receives late is not skipped; default 2000",
    },
    logDrainGraceMs: {
      type: "integer",
      minimum: 0,
      maximum: 600000,
      description: "after a followed job finished, keep reading until no new line came for this long; default 10000",
    },
  },
} as const satisfies SchemaNode & Record<string, unknown>;

/** JSON Schema of the JobTarget this plugin accepts, in the protobuf JSON mapping. */
export const gcpTargetSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  title: "Flotilla GCP job target (JobTarget with gcp_cloud_run set)",
  type: "object",
  additionalProperties: false,
  properties: {
    gcpCloudRun: {
      type: "object",
      additionalProperties: false,
      properties: {
        project: { type: "string", pattern: projectPattern, description: "project id; default the provider's" },
        region: { type: "string", pattern: regionPattern, description: "region; default the provider's" },
        serviceAccount: { type: "string", pattern: serviceAccountPattern },
        vpcConnector: { type: "string", pattern: vpcPattern },
      },
    },
  },
} as const satisfies SchemaNode & Record<string, unknown>;

/** The provider config after validation, with defaults applied. */
export interface GcpProviderConfig {
  project: string;
  region: string;
  serviceAccount?: string;
  vpcConnector?: string;
  maxRetries: number;
  taskTimeoutSeconds: number;
  endpoint?: GcpEndpoint;
  universeDomain?: string;
  deleteFinishedJobs: boolean;
  statusPollIntervalMs: number;
  logPollIntervalMs: number;
  logReadsPerMinute: number;
  logSettleMs: number;
  logDrainGraceMs: number;
}

/** Parses and validates the provider config JSON; InvalidArgumentError names every bad key and why. */
export function parseGcpConfig(configJson: Uint8Array | string): GcpProviderConfig {
  const text = typeof configJson === "string" ? configJson : new TextDecoder().decode(configJson);
  const raw =
    text.trim() === ""
      ? {}
      : parseJson(
          text,
          "gcp provider config",
          'pass a JSON object like {"project":"my-project","region":"europe-west1"}',
        );
  const problems = checkAgainstSchema(raw, gcpConfigSchema as unknown as SchemaNode);
  const config = raw as Record<string, unknown>;
  if (problems.length === 0 && config.insecureEndpoint === true && config.endpoint === undefined)
    problems.push({ key: "insecureEndpoint", reason: "needs endpoint: plain text applies only to a local endpoint" });
  if (problems.length > 0)
    throw new InvalidArgumentError(`gcp provider config is invalid: ${formatProblems(problems)}`);
  const endpoint =
    typeof config.endpoint === "string"
      ? parseGcpEndpoint(config.endpoint, config.insecureEndpoint === true)
      : undefined;
  return {
    project: config.project as string,
    region: config.region as string,
    ...(typeof config.serviceAccount === "string" ? { serviceAccount: config.serviceAccount } : {}),
    ...(typeof config.vpcConnector === "string" ? { vpcConnector: config.vpcConnector } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(typeof config.universeDomain === "string" ? { universeDomain: config.universeDomain } : {}),
    maxRetries: (config.maxRetries as number | undefined) ?? 0,
    taskTimeoutSeconds: (config.taskTimeoutSeconds as number | undefined) ?? 600,
    deleteFinishedJobs: (config.deleteFinishedJobs as boolean | undefined) ?? true,
    statusPollIntervalMs: (config.statusPollIntervalMs as number | undefined) ?? 2000,
    logPollIntervalMs: (config.logPollIntervalMs as number | undefined) ?? 2000,
    logReadsPerMinute: (config.logReadsPerMinute as number | undefined) ?? 50,
    logSettleMs: (config.logSettleMs as number | undefined) ?? 2000,
    logDrainGraceMs: (config.logDrainGraceMs as number | undefined) ?? 10_000,
  };
}

/** Where a job runs once the JobSpec's target and the provider defaults are merged. */
export interface ResolvedCloudRunTarget {
  project: string;
  region: string;
  serviceAccount?: string;
  vpcConnector?: string;
}

/** Merges a JobSpec target with the provider defaults; a target of another cloud is refused. */
export function resolveCloudRunTarget(
  target: JobTarget | undefined,
  config: GcpProviderConfig,
): ResolvedCloudRunTarget {
  const kind = target?.kind.case;
  if (kind !== undefined && kind !== "gcpCloudRun")
    throw new InvalidArgumentError(
      `JobSpec.target: the gcp plugin runs jobs on Cloud Run and needs target.gcp_cloud_run, got target.${kind}`,
    );
  const t: Partial<GcpCloudRunTarget> = kind === "gcpCloudRun" ? (target?.kind.value as GcpCloudRunTarget) : {};
  const problems = checkAgainstSchema(
    {
      project: t.project || undefined,
      region: t.region || undefined,
      serviceAccount: t.serviceAccount || undefined,
      vpcConnector: t.vpcConnector || undefined,
    },
    gcpTargetSchema.properties.gcpCloudRun as unknown as SchemaNode,
    "target.gcp_cloud_run",
  );
  if (problems.length > 0) throw new InvalidArgumentError(`JobSpec target is invalid: ${formatProblems(problems)}`);
  const serviceAccount = t.serviceAccount || config.serviceAccount;
  const vpcConnector = t.vpcConnector || config.vpcConnector;
  return {
    project: t.project || config.project,
    region: t.region || config.region,
    ...(serviceAccount ? { serviceAccount } : {}),
    ...(vpcConnector ? { vpcConnector } : {}),
  };
}
