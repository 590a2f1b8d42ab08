/**
 * The GCP plugin's provider configuration and job target, each declared once
 * (`defineConfig`, `defineJobTarget` of the SDK): the schemas the
 * ContractRegistry publishes so the host can reject a bad config before
 * starting anything, the checks Configure and RunJob apply (failing with the
 * key, the reason and the fix before any Google call, never quoting a value),
 * the defaults, and the types the plugin reads.
 *
 * The config holds no secret: the one credential, a service-account key,
 * arrives as a reference (ConfigureRequest.credentials) and is resolved
 * inside the plugin, so nothing here is marked `sensitive`.
 */
import { type ConfigOf, defineConfig, defineJobTarget, type SchemaProblem } from "@flotilla/plugin-sdk";
import type { JobTarget } from "@flotilla/protocol";

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
/** HOST:PORT, IPv6 hosts in brackets; the port's range is checked by a rule. */
const endpointPattern = "^(\\[[0-9a-fA-F:]+\\]|[A-Za-z0-9.-]+):\\d{1,5}$";

const projectDescription = "a Google Cloud project id: 6-30 lowercase letters, digits or hyphens, e.g. my-project";
const regionDescription = "a Cloud Run region, e.g. europe-west1 (`gcloud run regions list` lists them)";
const serviceAccountDescription =
  "the email of the service account jobs run as, e.g. jobs@my-project.iam.gserviceaccount.com; default the project's Compute Engine default service account";
const vpcDescription =
  "egress for jobs: a Serverless VPC Access connector (name or projects/P/locations/L/connectors/C) or Direct VPC as network:NAME[/subnetwork:SUB]";

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
    project: { type: "string", pattern: projectPattern, description: projectDescription },
    region: { type: "string", pattern: regionPattern, description: regionDescription },
    serviceAccount: { type: "string", pattern: serviceAccountPattern, description: serviceAccountDescription },
    vpcConnector: { type: "string", pattern: vpcPattern, description: vpcDescription },
    maxRetries: {
      type: "integer",
      minimum: 0,
      maximum: maxTaskRetries,
      default: 0,
      description: "retries of a failed task, 0-10 (Cloud Run's own default is 3, which reruns failed jobs)",
    },
    taskTimeoutSeconds: {
      type: "integer",
      minimum: 1,
      maximum: maxTaskTimeoutSeconds,
      default: 600,
      description: "task timeout when the JobSpec gives none, at most 86400 (Cloud Run's default is 600)",
    },
    endpoint: {
      type: "string",
      pattern: endpointPattern,
      description:
        "HOST:PORT of the Cloud Run and Cloud Logging APIs instead of Google's (tests, emulators), e.g. \"127.0.0.1:8085\"; leave it out for Google's endpoints",
    },
    insecureEndpoint: {
      type: "boolean",
      default: false,
      description: "plain-text gRPC without credentials to `endpoint`: for a local fake only",
    },
    universeDomain: { type: "string", minLength: 1, description: 'the universe domain; default "googleapis.com"' },
    deleteFinishedJobs: {
      type: "boolean",
      default: true,
      description:
        "delete a job's Cloud Run Job once its execution finished (Cloud Run keeps at most 1000 jobs per region)",
    },
    statusPollIntervalMs: {
      type: "integer",
      minimum: 10,
      maximum: 600000,
      default: 2000,
      description: "how often tracked executions are polled",
    },
    logPollIntervalMs: {
      type: "integer",
      minimum: 10,
      maximum: 600000,
      default: 2000,
      description: "how often a followed log is read",
    },
    logReadsPerMinute: {
      type: "integer",
      minimum: 1,
      maximum: 100000,
      default: 50,
      description:
        "entries.list calls per minute shared by every followed log of the project (Cloud Logging allows 60 per project)",
    },
    logSettleMs: {
      type: "integer",
      minimum: 0,
      maximum: 600000,
      default: 2000,
      description: "lines younger than this are read later, so a line Cloud Logging receives late is not skipped",
    },
    logDrainGraceMs: {
      type: "integer",
      minimum: 0,
      maximum: 600000,
      default: 10000,
      description: "after a followed job finished, keep reading until no new line came for this long",
    },
  },
} as const;

/** The provider config, declared once: `PluginDefinition.config` of the gcp plugin. */
export const gcpConfig = defineConfig({
  what: "gcp provider config",
  schema: gcpConfigSchema,
  rules(given) {
    const problems: SchemaProblem[] = [];
    if (given.insecureEndpoint === true && given.endpoint === undefined)
      problems.push({
        key: "insecureEndpoint",
        reason: "needs endpoint: plain text applies only to a local endpoint; set endpoint or remove insecureEndpoint",
      });
    const port =
      given.endpoint === undefined ? undefined : Number(given.endpoint.slice(given.endpoint.lastIndexOf(":") + 1));
    if (port !== undefined && (port < 1 || port > 65535))
      problems.push({ key: "endpoint", reason: `port ${port} is outside 1-65535; give the API's TCP port` });
    return problems;
  },
});

/** The provider config after validation, with defaults applied. */
export type GcpProviderConfig = ConfigOf<typeof gcpConfigSchema>;

/**
 * Parses and validates the provider config JSON, as Configure does.
 * InvalidArgumentError names every bad key, why and what is expected.
 */
export const parseGcpConfig = gcpConfig.parse;

/** The job target, declared once: JobTarget.gcp_cloud_run in protobuf JSON form. */
export const gcpTarget = defineJobTarget({
  plugin: "gcp",
  kind: "gcpCloudRun",
  title: "Flotilla GCP job target (JobTarget with gcp_cloud_run set)",
  schema: {
    type: "object",
    additionalProperties: false,
    properties: {
      project: {
        type: "string",
        pattern: projectPattern,
        description: `${projectDescription}; default the provider's`,
      },
      region: { type: "string", pattern: regionPattern, description: `${regionDescription}; default the provider's` },
      serviceAccount: { type: "string", pattern: serviceAccountPattern, description: serviceAccountDescription },
      vpcConnector: { type: "string", pattern: vpcPattern, description: vpcDescription },
    },
  },
});

/** JSON Schema of the JobTarget this plugin accepts, in the protobuf JSON mapping. */
export const gcpTargetSchema = gcpTarget.schema;

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
  const t = gcpTarget.read(target);
  const serviceAccount = t.serviceAccount || config.serviceAccount;
  const vpcConnector = t.vpcConnector || config.vpcConnector;
  return {
    project: t.project || config.project,
    region: t.region || config.region,
    ...(serviceAccount ? { serviceAccount } : {}),
    ...(vpcConnector ? { vpcConnector } : {}),
  };
}
