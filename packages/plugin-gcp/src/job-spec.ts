/**
 * A JobSpec as a Cloud Run Job: its id from the idempotency key within Cloud
 * Run's naming rules, and the execution template (container, env, secrets,
 * resources, timeout, retries, service account, VPC egress).
 */
import { randomUUID } from "node:crypto";
import { jobTimeoutMs, resourceNameFor } from "@flotilla/plugin-sdk";
import { InvalidArgumentError, type JobSpec, parseSecretEnv } from "@flotilla/protocol";
import type { protos } from "@google-cloud/run";
import { type GcpProviderConfig, maxTaskTimeoutSeconds, type ResolvedCloudRunTarget } from "./config-schema.js";

type CloudRunJob = protos.google.cloud.run.v2.IJob;
type EnvVar = protos.google.cloud.run.v2.IEnvVar;

/**
 * The execution token every job is created with, so its one execution is
 * named `<job id>-run`: "A unique string used as a suffix creating a new
 * execution. The Job will become ready when the execution is successfully
 * started." (job.proto, `start_execution_token`). One job per run, so a
 * constant token is unique.
 */
export const executionToken = "run";

/**
 * Job ids are RFC 1035 labels (a lowercase letter first, lowercase letters,
 * digits and hyphens, no hyphen last, at most 63), and "the sum of job name
 * and token length must be fewer than 63 characters" (job.proto,
 * `start_execution_token`): with the token "run", at most 59.
 */
const jobIdRules = {
  maxLength: 62 - executionToken.length,
  allowed: /[a-z0-9-]/,
  prefix: "flotilla-",
  lowerCase: true,
} as const;

/** The Cloud Run job id for an idempotency key: the same key, the same job. */
export function jobIdFor(idempotencyKey: string): string {
  return resourceNameFor(idempotencyKey, jobIdRules);
}

/**
 * The store name of Secret Manager references:
 * `secret://gcp-sm/SECRET[/VERSION]` for a secret of the job's project, or
 * `secret://gcp-sm/projects/PROJECT/secrets/SECRET[/versions/VERSION]` for one
 * of another project; the version defaults to "latest". Cloud Run reads the
 * value when the task starts (`secret_key_ref`); it never passes through
 * Flotilla.
 */
export const secretManagerStore = "gcp-sm";

/** Secret ids: "up to 255 characters ... letters, numerals, and the hyphen and underscore characters" (Secret Manager docs). */
const secretIdPattern = "[A-Za-z0-9_-]{1,255}";
/** Versions: a number, or an alias such as "latest". */
const versionPattern = "[A-Za-z0-9_-]{1,63}";
const shortSecret = new RegExp(`^(${secretIdPattern})(?:/(${versionPattern}))?$`);
const fullSecret = new RegExp(`^(projects/[a-z0-9-]+/secrets/${secretIdPattern})(?:/versions/(${versionPattern}))?$`);

/** The env entries that take their values from Secret Manager; `field` names the map in errors. */
export function secretEnvVars(secretEnv: Readonly<Record<string, string>>, field = "JobSpec.secret_env"): EnvVar[] {
  const vars: EnvVar[] = [];
  for (const [name, { store, rest, reference }] of parseSecretEnv(secretEnv, field)) {
    const where = `${field}.${name}`;
    if (store !== secretManagerStore)
      throw new InvalidArgumentError(
        `${where}: ${JSON.stringify(reference)}: Cloud Run reads secrets from Secret Manager; use secret://${secretManagerStore}/SECRET[/VERSION]`,
      );
    const match = shortSecret.exec(rest) ?? fullSecret.exec(rest);
    if (!match)
      throw new InvalidArgumentError(
        `${where}: ${JSON.stringify(reference)} does not name a Secret Manager secret; use secret://${secretManagerStore}/SECRET[/VERSION] or secret://${secretManagerStore}/projects/PROJECT/secrets/SECRET[/versions/VERSION]`,
      );
    vars.push({ name, valueSource: { secretKeyRef: { secret: match[1] as string, version: match[2] ?? "latest" } } });
  }
  return vars;
}

/**
 * Label rules: "Keys must start with a lowercase character and contain only
 * hyphens (-), underscores (_), lowercase characters, and numbers. Values can
 * contain only hyphens (-), underscores (_), lowercase characters, and
 * numbers." and at most 63 characters each (Resource Manager docs, "Labels").
 */
const labelKey = /^[a-z][a-z0-9_-]{0,62}$/;
const labelValue = /^[a-z0-9_-]{0,63}$/;

/** The label every job the plugin runs carries, so a sweep can find them once finished. */
export const managedByLabel = { key: "managed-by", value: "flotilla" } as const;
/**
 * The value of that label on the resources the plugin manages (ResourceDriver): never "flotilla", so the
 * sweep of finished jobs leaves a `run.job` resource alone.
 */
export const managedResourceLabelValue = "flotilla-resource";

/**
 * `given` checked against Google's label rules, plus Flotilla's own label
 * (`managed-by`, with `managedBy` as its value); `field` names them in errors
 * (e.g. "JobSpec.labels").
 */
export function flotillaLabels(
  given: Readonly<Record<string, string>>,
  field: string,
  managedBy: string = managedByLabel.value,
): Record<string, string> {
  const labels: Record<string, string> = { [managedByLabel.key]: managedBy };
  for (const [key, value] of Object.entries(given)) {
    const where = `${field}[${JSON.stringify(key.slice(0, 70))}]`;
    if (!labelKey.test(key))
      throw new InvalidArgumentError(
        `${where}: Google Cloud label keys start with a lowercase letter and hold only lowercase letters, digits, "-" and "_" (at most 63); rename the label`,
      );
    if (!labelValue.test(value))
      throw new InvalidArgumentError(
        `${where}: Google Cloud label values hold only lowercase letters, digits, "-" and "_" (at most 63); change the value`,
      );
    if (key === managedByLabel.key)
      throw new InvalidArgumentError(`${where}: the key is Flotilla's own; rename the label`);
    labels[key] = value;
  }
  return labels;
}

/** A CPU limit as Cloud Run writes it: whole CPUs ("1", "2") or millicores ("500m"). */
export function cpuOf(millicores: number): string {
  return millicores % 1000 === 0 ? String(millicores / 1000) : `${millicores}m`;
}

/** VPC egress: a connector (short name or full) or Direct VPC as network:NAME[/subnetwork:SUB]. */
export function vpcAccessOf(
  vpc: string,
  target: Pick<ResolvedCloudRunTarget, "project" | "region">,
): protos.google.cloud.run.v2.IVpcAccess {
  const direct = /^network:([^/]+)(?:\/subnetwork:(.+))?$/.exec(vpc);
  if (direct)
    return { networkInterfaces: [{ network: direct[1] as string, ...(direct[2] ? { subnetwork: direct[2] } : {}) }] };
  return {
    connector: vpc.startsWith("projects/")
      ? vpc
      : `projects/${target.project}/locations/${target.region}/connectors/${vpc}`,
  };
}

/** The job id and the Job to create for a spec (its first execution started with it). */
export function cloudRunJobFor(
  spec: JobSpec,
  target: ResolvedCloudRunTarget,
  config: GcpProviderConfig,
): { jobId: string; job: CloudRunJob } {
  if (!spec.image) throw new InvalidArgumentError("JobSpec.image: required; Cloud Run runs a container image");
  const timeoutMs = jobTimeoutMs(spec.timeout);
  const timeoutSeconds = timeoutMs === undefined ? config.taskTimeoutSeconds : Math.ceil(timeoutMs / 1000);
  if (timeoutSeconds > maxTaskTimeoutSeconds)
    throw new InvalidArgumentError(
      `JobSpec.timeout: ${timeoutSeconds}s is longer than Cloud Run's maximum task timeout of 24 hours; shorten it`,
    );
  const env: EnvVar[] = [
    ...Object.entries(spec.env).map(([name, value]) => ({ name, value })),
    ...secretEnvVars(spec.secretEnv),
  ];
  const cpu = spec.resources?.cpuMillicores ?? 0;
  const memory = spec.resources?.memoryMib ?? 0;
  const limits: Record<string, string> = {
    ...(cpu > 0 ? { cpu: cpuOf(cpu) } : {}),
    ...(memory > 0 ? { memory: `${memory}Mi` } : {}),
  };
  const container: protos.google.cloud.run.v2.IContainer = {
    name: "job",
    image: spec.image,
    ...(spec.command.length > 0 ? { command: [...spec.command] } : {}),
    ...(spec.args.length > 0 ? { args: [...spec.args] } : {}),
    ...(env.length > 0 ? { env } : {}),
    ...(Object.keys(limits).length > 0 ? { resources: { limits } } : {}),
    ...(spec.workingDir ? { workingDir: spec.workingDir } : {}),
  };
  const key = spec.idempotencyKey || `${spec.name || "job"}-${randomUUID()}`;
  return {
    jobId: jobIdFor(key),
    job: {
      labels: flotillaLabels(spec.labels, "JobSpec.labels"),
      template: {
        taskCount: 1,
        template: {
          containers: [container],
          // max_retries sits in a oneof: sent explicitly, 0 means no retry ("Defaults to 3" when unset, task_template.proto).
          maxRetries: config.maxRetries,
          timeout: { seconds: timeoutSeconds },
          ...(target.serviceAccount ? { serviceAccount: target.serviceAccount } : {}),
          ...(target.vpcConnector ? { vpcAccess: vpcAccessOf(target.vpcConnector, target) } : {}),
        },
      },
      startExecutionToken: executionToken,
    },
  };
}
