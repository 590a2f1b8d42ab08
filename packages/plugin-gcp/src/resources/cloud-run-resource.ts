/**
 * What the Cloud Run resource types (run.service, run.job) share: the
 * container and placement parts of their configs (schema, the Cloud Run
 * message they become, and back), the normal form configs are compared in,
 * where a resource lives, and diagnostics from Cloud Run conditions.
 */
import { type ConfigChange, type DiagnosticInit, diffConfig } from "@flotilla/plugin-sdk";
import { DiagnosticSeverity, InvalidArgumentError, NotFoundError, type ResourceRef } from "@flotilla/protocol";
import type { protos } from "@google-cloud/run";
import {
  cpuOf,
  flotillaLabels,
  managedByLabel,
  managedResourceLabelValue,
  secretEnvVars,
  secretManagerStore,
  vpcAccessOf,
} from "../job-spec.js";
import type { GcpRuntime } from "../runtime.js";

type Container = protos.google.cloud.run.v2.IContainer;
type Condition = protos.google.cloud.run.v2.ICondition;

/** JSON Schema properties of a container: the same keys in every Cloud Run resource config. */
export const containerProperties = {
  image: {
    type: "string",
    minLength: 1,
    description: "the container image, e.g. us-docker.pkg.dev/cloudrun/container/hello",
  },
  command: { type: "array", items: { type: "string" }, description: "the container's entrypoint" },
  args: { type: "array", items: { type: "string" }, description: "arguments to the entrypoint" },
  env: {
    type: "object",
    additionalProperties: { type: "string" },
    description: "plain environment variables (their values are masked as sensitive); put secrets in secretEnv",
  },
  secretEnv: {
    type: "object",
    additionalProperties: { type: "string", pattern: `^secret://${secretManagerStore}/` },
    description: `environment variables Cloud Run reads from Secret Manager: secret://${secretManagerStore}/SECRET[/VERSION]`,
  },
  cpu: { type: "string", pattern: "^([1-9]\\d*|[1-9]\\d*m)$", description: 'CPU limit, e.g. "1", "2" or "500m"' },
  memory: { type: "string", pattern: "^[1-9]\\d*(Mi|Gi)$", description: 'memory limit, e.g. "512Mi" or "2Gi"' },
} as const;

/** JSON Schema properties of where and as whom a Cloud Run resource runs. */
export const placementProperties = {
  serviceAccount: {
    type: "string",
    pattern: "^[^@\\s]+@[^@\\s]+$",
    description: "the email of the service account it runs as",
  },
  vpcConnector: {
    type: "string",
    pattern:
      "^(projects/[^/]+/locations/[^/]+/connectors/[^/]+|[a-z][-a-z0-9]{0,24}|network:[^/\\s]+(/subnetwork:[^/\\s]+)?)$",
    description:
      "egress: a Serverless VPC Access connector (name or projects/P/locations/L/connectors/C) or Direct VPC as network:NAME[/subnetwork:SUB]",
  },
  labels: {
    type: "object",
    additionalProperties: { type: "string" },
    description: "its labels (Flotilla adds managed-by=flotilla-resource)",
  },
  project: {
    type: "string",
    pattern: "^[a-z][-a-z0-9]{4,28}[a-z0-9]$",
    description: "the project; default the provider's. Changing it replaces the resource",
  },
  region: {
    type: "string",
    pattern: "^[a-z]+-[a-z]+\\d+$",
    description: "the region; default the provider's. Changing it replaces the resource",
  },
} as const;

/** The container part of a config. */
export interface ContainerConfig {
  image: string;
  command?: string[];
  args?: string[];
  env?: Record<string, string>;
  secretEnv?: Record<string, string>;
  cpu?: string;
  memory?: string;
}

/** The placement part of a config. */
export interface PlacementConfig {
  serviceAccount?: string;
  vpcConnector?: string;
  labels?: Record<string, string>;
  project?: string;
  region?: string;
}

/** Keys whose change needs the resource recreated: a Cloud Run resource lives in one project and region. */
export const replaceOn = ["/project", "/region"];
/** Plain env values may be secrets a user put there anyway: masked in diffs and by hosts. */
export const sensitiveKeys = ["/env"];

/** Millicores of a CPU limit ("1" → 1000, "500m" → 500, "1000m" → 1000). */
function millicores(cpu: string): number {
  return cpu.endsWith("m") ? Number(cpu.slice(0, -1)) : Number(cpu) * 1000;
}

/** A memory limit in the form Cloud Run reports ("1Gi" and "1024Mi" are the same). */
function memoryOf(memory: string): string {
  return memory.endsWith("Gi") ? `${Number(memory.slice(0, -2)) * 1024}Mi` : memory;
}

/** A Secret Manager env var as its reference, version always written. */
function secretReferenceOf(ref: protos.google.cloud.run.v2.ISecretKeySelector): string {
  const secret = ref.secret ?? "";
  const version = ref.version || "latest";
  return secret.startsWith("projects/")
    ? `secret://${secretManagerStore}/${secret}/versions/${version}`
    : `secret://${secretManagerStore}/${secret}/${version}`;
}

/** VPC access as a config writes it, connectors always in full. */
export function vpcOf(access: protos.google.cloud.run.v2.IVpcAccess | null | undefined): string | undefined {
  if (access?.connector) return access.connector;
  const nic = access?.networkInterfaces?.[0];
  if (nic?.network) return `network:${nic.network}${nic.subnetwork ? `/subnetwork:${nic.subnetwork}` : ""}`;
  return undefined;
}

/** The Cloud Run container for a config's container part; `what` names the config in errors. */
export function containerOf(config: ContainerConfig, what: string): Container {
  const env = [
    ...Object.entries(config.env ?? {}).map(([name, value]) => ({ name, value })),
    ...secretEnvVars(config.secretEnv ?? {}, `${what} secretEnv`),
  ];
  const limits: Record<string, string> = {
    ...(config.cpu ? { cpu: cpuOf(millicores(config.cpu)) } : {}),
    ...(config.memory ? { memory: memoryOf(config.memory) } : {}),
  };
  return {
    image: config.image,
    ...(config.command?.length ? { command: config.command } : {}),
    ...(config.args?.length ? { args: config.args } : {}),
    ...(env.length > 0 ? { env } : {}),
    ...(Object.keys(limits).length > 0 ? { resources: { limits } } : {}),
  };
}

/** A Cloud Run container as a config's container part. */
export function containerConfigOf(container: Container): ContainerConfig {
  const env: Record<string, string> = {};
  const secretEnv: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    const secret = variable.valueSource?.secretKeyRef;
    if (secret) secretEnv[variable.name ?? ""] = secretReferenceOf(secret);
    else env[variable.name ?? ""] = variable.value ?? "";
  }
  const limits = container.resources?.limits ?? {};
  return {
    image: container.image ?? "",
    ...(container.command?.length ? { command: [...container.command] } : {}),
    ...(container.args?.length ? { args: [...container.args] } : {}),
    ...(Object.keys(env).length > 0 ? { env } : {}),
    ...(Object.keys(secretEnv).length > 0 ? { secretEnv } : {}),
    ...(limits.cpu ? { cpu: cpuOf(millicores(limits.cpu)) } : {}),
    ...(limits.memory ? { memory: memoryOf(limits.memory) } : {}),
  };
}

/** The labels a resource is written with: the config's, checked, plus `managed-by=flotilla-resource`. */
export function labelsOf(config: PlacementConfig, what: string): Record<string, string> {
  return flotillaLabels(config.labels ?? {}, `${what} labels`, managedResourceLabelValue);
}

/** A resource's own labels, without Flotilla's. */
export function userLabels(labels: Record<string, string> | null | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(labels ?? {}).filter(([key]) => key !== managedByLabel.key));
}

/**
 * A config in the form a resource read back reports it, so equal settings compare equal whatever their
 * form: `1` and `1000m` CPUs, `1Gi` and `1024Mi`, a secret with or without `/latest`, a connector's short and
 * full name.
 */
export function normalised<T extends Partial<ContainerConfig> & PlacementConfig>(
  config: T,
  where: ResourceLocation,
  what: string,
): T {
  const secretEnv = Object.fromEntries(
    secretEnvVars(config.secretEnv ?? {}, `${what} secretEnv`).map((v) => [
      v.name,
      secretReferenceOf(v.valueSource?.secretKeyRef ?? {}),
    ]),
  );
  return {
    ...config,
    ...(config.cpu ? { cpu: cpuOf(millicores(config.cpu)) } : {}),
    ...(config.memory ? { memory: memoryOf(config.memory) } : {}),
    ...(config.secretEnv ? { secretEnv } : {}),
    ...(config.vpcConnector ? { vpcConnector: vpcOf(vpcAccessOf(config.vpcConnector, where)) as string } : {}),
  };
}

/** Where a Cloud Run resource is. */
export interface ResourceLocation {
  project: string;
  region: string;
  /** Its full name, e.g. projects/P/locations/L/services/S. */
  name: string;
}

/** The project and region in a Cloud Run resource's full name. */
export function locationOf(name: string | null | undefined): { project: string; region: string } {
  const [, project = "", region = ""] = /^projects\/([^/]+)\/locations\/([^/]+)\//.exec(name ?? "") ?? [];
  return { project, region };
}

/** How one kind of Cloud Run resource is named. */
export interface ResourceNaming {
  /** The collection in its full name: "services", "jobs". */
  collection: string;
  /** The published rule for its id, and the rule in words for the error. */
  idPattern: RegExp;
  idRule: string;
}

/** Finds resources of one kind: from ResourceRef.provider_id once created, else from the config and provider defaults. */
export function resourceLocator(runtime: () => GcpRuntime, naming: ResourceNaming) {
  const fullName = new RegExp(`^projects/([^/]+)/locations/([^/]+)/${naming.collection}/([^/]+)$`);

  function locate(ref: ResourceRef, config?: { project?: string; region?: string }): ResourceLocation {
    if (!naming.idPattern.test(ref.name))
      throw new InvalidArgumentError(
        `ResourceRef.name: ${naming.idRule}; got one of ${ref.name.length} characters that is not; rename it`,
      );
    // The full name, once created, says where it is; the config may name another place (a replacement).
    const full = fullName.exec(ref.providerId);
    const known = full && full[3] === ref.name ? full : undefined;
    const project = config?.project ?? known?.[1] ?? runtime().config.project;
    const region = config?.region ?? known?.[2] ?? runtime().config.region;
    return { project, region, name: `projects/${project}/locations/${region}/${naming.collection}/${ref.name}` };
  }

  /** Where to read a resource: where it is once created (ResourceRef.provider_id), else where the config puts it. */
  function existingName(ref: ResourceRef, config?: { project?: string; region?: string }): string {
    const known = locate(ref);
    return known.name === ref.providerId ? known.name : locate(ref, config).name;
  }

  return { locate, existingName };
}

/** What {@link configComparison} needs from a resource type. */
export interface ComparedResource<Resource, Config> {
  /** "run.service config": names the config in errors. */
  what: string;
  /** Parses a desired config; `partial` for a diff, which compares only the keys given. */
  parse(raw: Record<string, unknown>, partial?: boolean): Config;
  locate(ref: ResourceRef, config?: { project?: string; region?: string }): ResourceLocation;
  existingName(ref: ResourceRef, config?: { project?: string; region?: string }): string;
  /** Reads the resource; NotFoundError when it is missing. */
  get(name: string): Promise<Resource>;
  /** The resource as a config, in the form configs are written. */
  actualConfig(resource: Resource): Config;
}

/**
 * Diff and drift of a Cloud Run resource against a desired config: both compare the resource as a config
 * with the desired one in its normal form, with the same replacement and sensitive keys; drift reports a
 * missing resource as `missing` (drift.proto), diff fails with NotFoundError.
 */
export function configComparison<Resource, Config extends Partial<ContainerConfig> & PlacementConfig>(
  resource: ComparedResource<Resource, Config>,
) {
  // Configs are plain JSON objects; their declared types only lack the index signature diffConfig takes.
  const asJson = (config: Config): Record<string, unknown> => ({ ...config }) as Record<string, unknown>;
  const compare = (actual: Resource, config: Config, where: ResourceLocation): ConfigChange[] =>
    diffConfig(asJson(resource.actualConfig(actual)), asJson(normalised(config, where, resource.what)), {
      replaceOn,
      sensitive: sensitiveKeys,
    });
  return {
    async diff(ref: ResourceRef, desired: Record<string, unknown>): Promise<ConfigChange[]> {
      const config = resource.parse(desired, true);
      return compare(await resource.get(resource.existingName(ref, config)), config, resource.locate(ref, config));
    },
    async drift(ref: ResourceRef, desired: Record<string, unknown>) {
      const config = resource.parse(desired);
      let actual: Resource;
      try {
        actual = await resource.get(resource.existingName(ref, config));
      } catch (err) {
        if (err instanceof NotFoundError) return { missing: true, changes: [] as ConfigChange[] };
        throw err;
      }
      return { missing: false, changes: compare(actual, config, resource.locate(ref, config)) };
    },
  };
}

/** A resource's ResourceState.status from its `reconciling` flag and terminal `Ready` condition. */
export function statusOf(reconciling: boolean | null | undefined, terminal: Condition | null | undefined): string {
  if (reconciling) return "RECONCILING";
  const state = String(terminal?.state ?? "");
  if (state === "CONDITION_SUCCEEDED") return "READY";
  if (state === "CONDITION_FAILED") return "FAILED";
  return state || "UNKNOWN";
}

function timeOf(condition: Condition): string {
  const seconds = Number(String(condition.lastTransitionTime?.seconds ?? 0));
  return new Date(seconds * 1000).toISOString();
}

/** Diagnostics from Cloud Run conditions that have not succeeded: the terminal one first, then the others. */
export function conditionDiagnostics(
  terminal: Condition | null | undefined,
  conditions: readonly Condition[] | null | undefined,
): DiagnosticInit[] {
  const diagnostics: DiagnosticInit[] = [];
  for (const condition of [terminal ?? {}, ...(conditions ?? [])]) {
    if (!condition.type) continue;
    const stateName = String(condition.state ?? "");
    if (stateName === "CONDITION_SUCCEEDED") continue;
    const failed = stateName === "CONDITION_FAILED";
    const reason = condition.revisionReason || condition.reason || condition.executionReason;
    diagnostics.push({
      severity: failed
        ? String(condition.severity) === "WARNING"
          ? DiagnosticSeverity.WARNING
          : DiagnosticSeverity.ERROR
        : DiagnosticSeverity.INFO,
      summary: `${condition.type}: ${stateName.replace(/^CONDITION_/, "").toLowerCase()}${reason ? ` (${reason})` : ""}`,
      detail: [condition.message, condition.lastTransitionTime?.seconds ? `since ${timeOf(condition)}` : ""]
        .filter(Boolean)
        .join("; "),
    });
  }
  return diagnostics;
}
