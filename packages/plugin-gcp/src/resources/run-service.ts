/**
 * The "run.service" resource type: a Cloud Run service (Admin API v2,
 * `projects/P/locations/L/services/S`), named by ResourceRef.name in the
 * provider's project and region unless its config says otherwise.
 *
 * Config (JSON, checked against {@link runServiceConfigSchema} before any
 * call): the container (image, command, args, env, Secret Manager env, port,
 * cpu and memory limits), instance counts, request concurrency and timeout,
 * service account, VPC egress, ingress and labels. Health and troubleshooting
 * read the service's own conditions (`terminal_condition` "Ready" and the
 * sub-resources' conditions, with `reconciling`); ScaleResource sets the
 * service-level minimum instance count; drift compares a desired config with
 * the service as Cloud Run reports it. Every change is a read-modify-write
 * carrying the service's `etag`, so a change made meanwhile by someone else is
 * refused (ABORTED) instead of overwritten.
 */
import {
  checkAgainstSchema,
  diffConfig,
  formatProblems,
  jsonBytes,
  MAX_REPLICAS,
  type ResourceStateInit,
  type ResourceType,
  type SchemaNode,
} from "@flotilla/plugin-sdk";
import { DiagnosticSeverity, InvalidArgumentError, NotFoundError, type ResourceRef } from "@flotilla/protocol";
import type { protos } from "@google-cloud/run";
import { translateGcpError } from "../errors.js";
import { vpcAccessOf } from "../job-spec.js";
import type { GcpRuntime } from "../runtime.js";
import {
  type ContainerConfig,
  conditionDiagnostics,
  configComparison,
  containerConfigOf,
  containerOf,
  containerProperties,
  labelsOf,
  locationOf,
  type PlacementConfig,
  placementProperties,
  type ResourceLocation,
  replaceOn,
  resourceLocator,
  sensitiveKeys,
  statusOf,
  userLabels,
  vpcOf,
} from "./cloud-run-resource.js";

type Service = protos.google.cloud.run.v2.IService;
type Condition = protos.google.cloud.run.v2.ICondition;

const what = "run.service config";

/**
 * "It must begin with letter, and cannot end with hyphen; must contain fewer
 * than 50 characters." (service.proto, CreateServiceRequest.service_id);
 * lowercase letters, digits and hyphens.
 */
const serviceIdPattern = /^[a-z]([-a-z0-9]{0,47}[a-z0-9])?$/;

/** The config's ingress values and Cloud Run's IngressTraffic names (vendor_settings.proto). */
const ingressValues = {
  all: "INGRESS_TRAFFIC_ALL",
  internal: "INGRESS_TRAFFIC_INTERNAL_ONLY",
  "internal-and-cloud-load-balancing": "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
  none: "INGRESS_TRAFFIC_NONE",
} as const;
type Ingress = keyof typeof ingressValues;

/**
 * RevisionScaling.max_instance_count: "When unspecified, the field is set to
 * the server default value of 100." Used as the maximum when ScaleResource
 * sets a minimum on a service that has none.
 */
const defaultMaxInstances = 100;

/** JSON Schema of a run.service config. */
export const runServiceConfigSchema = {
  type: "object",
  additionalProperties: false,
  required: ["image"],
  properties: {
    ...containerProperties,
    port: {
      type: "integer",
      minimum: 1,
      maximum: 65535,
      description: "the port the container listens on (Cloud Run sends requests there and sets PORT); default 8080",
    },
    minInstances: {
      type: "integer",
      minimum: 0,
      maximum: MAX_REPLICAS,
      description: "instances kept running even without requests (ScaleResource sets it); needs maxInstances",
    },
    maxInstances: {
      type: "integer",
      minimum: 1,
      maximum: MAX_REPLICAS,
      description: "the most instances the service scales out to",
    },
    concurrency: {
      type: "integer",
      minimum: 1,
      // "Maximum concurrent requests per instance — 1000" (Cloud Run quotas page).
      maximum: 1000,
      description: "requests one instance serves at once, at most 1000; Cloud Run's default 80",
    },
    timeoutSeconds: {
      type: "integer",
      minimum: 1,
      // "Maximum request timeout — 60 minutes" (Cloud Run quotas page).
      maximum: 3600,
      description: "request timeout, at most 3600; Cloud Run's default 300",
    },
    ingress: {
      type: "string",
      enum: Object.keys(ingressValues),
      description: "who may reach the service; default all",
    },
    ...placementProperties,
  },
} as const satisfies SchemaNode;

/** A run.service config as written. */
export interface RunServiceConfig extends ContainerConfig, PlacementConfig {
  port?: number;
  minInstances?: number;
  maxInstances?: number;
  concurrency?: number;
  timeoutSeconds?: number;
  ingress?: Ingress;
}

/** The Service fields the plugin owns; an update replaces exactly these (AIP-134 update mask). */
const managedPaths = ["labels", "ingress", "scaling", "template"];

/** Checks a config; `partial` for a diff, where every key is optional. */
export function parseRunServiceConfig(config: Record<string, unknown>, partial = false): RunServiceConfig {
  const schema = partial ? { ...runServiceConfigSchema, required: [] } : runServiceConfigSchema;
  const problems = checkAgainstSchema(config, schema as unknown as SchemaNode);
  const parsed = config as unknown as RunServiceConfig;
  if (problems.length === 0 && !partial) {
    // Cloud Run refuses a minimum without a maximum: "max_instance_count: must be greater or equal than
    // min_instance_count" (goblet/goblet#287).
    if ((parsed.minInstances ?? 0) > 0 && parsed.maxInstances === undefined)
      problems.push({
        key: "maxInstances",
        reason: `is required when minInstances is set (Cloud Run refuses a minimum without a maximum); set it, e.g. to ${Math.max(defaultMaxInstances, parsed.minInstances ?? 0)}`,
      });
    if (parsed.maxInstances !== undefined && (parsed.minInstances ?? 0) > parsed.maxInstances)
      problems.push({ key: "minInstances", reason: "must not be larger than maxInstances" });
  }
  if (problems.length > 0) throw new InvalidArgumentError(`${what} is invalid: ${formatProblems(problems)}`);
  return parsed;
}

/** The run.service resource type over a runtime getter. */
export function runServiceType(runtime: () => GcpRuntime): ResourceType {
  const client = () => runtime().clients.services();
  const { locate, existingName } = resourceLocator(runtime, {
    collection: "services",
    idPattern: serviceIdPattern,
    idRule:
      "a Cloud Run service name is a lowercase letter, then lowercase letters, digits or hyphens, not ending in a hyphen, fewer than 50 characters",
  });

  /** The Service to write for a config (the fields in {@link managedPaths}). */
  function serviceBody(config: RunServiceConfig, where: ResourceLocation): Service {
    const container = {
      ...containerOf(config, what),
      ...(config.port ? { ports: [{ containerPort: config.port }] } : {}),
    };
    const scaled = config.minInstances !== undefined || config.maxInstances !== undefined;
    return {
      labels: labelsOf(config, what),
      ingress: ingressValues[config.ingress ?? "all"],
      ...(scaled
        ? { scaling: { minInstanceCount: config.minInstances ?? 0, maxInstanceCount: config.maxInstances ?? 0 } }
        : {}),
      template: {
        containers: [container],
        ...(config.serviceAccount ? { serviceAccount: config.serviceAccount } : {}),
        ...(config.vpcConnector ? { vpcAccess: vpcAccessOf(config.vpcConnector, where) } : {}),
        ...(config.timeoutSeconds ? { timeout: { seconds: config.timeoutSeconds } } : {}),
        ...(config.concurrency ? { maxInstanceRequestConcurrency: config.concurrency } : {}),
      },
    };
  }

  /** The service as a config, in the form a config is written (for state, diff and drift). */
  function actualConfig(service: Service): RunServiceConfig {
    const template = service.template ?? {};
    const container = template.containers?.[0] ?? {};
    const ingress = (Object.keys(ingressValues) as Ingress[]).find((key) => ingressValues[key] === service.ingress);
    const timeout = Number(String(template.timeout?.seconds ?? 0));
    const vpc = vpcOf(template.vpcAccess);
    return {
      ...containerConfigOf(container),
      ...(container.ports?.[0]?.containerPort ? { port: container.ports[0].containerPort } : {}),
      ...(service.scaling ? { minInstances: service.scaling.minInstanceCount ?? 0 } : {}),
      ...(service.scaling?.maxInstanceCount ? { maxInstances: service.scaling.maxInstanceCount } : {}),
      ...(template.maxInstanceRequestConcurrency ? { concurrency: template.maxInstanceRequestConcurrency } : {}),
      ...(timeout > 0 ? { timeoutSeconds: timeout } : {}),
      ...(template.serviceAccount ? { serviceAccount: template.serviceAccount } : {}),
      ...(vpc ? { vpcConnector: vpc } : {}),
      ...(ingress ? { ingress } : {}),
      labels: userLabels(service.labels),
      ...locationOf(service.name),
    };
  }

  const readyOf = (service: Service): Condition => service.terminalCondition ?? {};

  function state(ref: ResourceRef, service: Service): ResourceStateInit {
    const ready = readyOf(service);
    return {
      ref: { type: ref.type, name: ref.name, providerId: service.name ?? "" },
      configJson: jsonBytes(actualConfig(service)),
      outputsJson: jsonBytes({
        uri: service.uri ?? "",
        latestReadyRevision: service.latestReadyRevision ?? "",
        latestCreatedRevision: service.latestCreatedRevision ?? "",
        generation: Number(String(service.generation ?? 0)),
        observedGeneration: Number(String(service.observedGeneration ?? 0)),
        reconciling: service.reconciling ?? false,
        ready: String(ready.state ?? ""),
      }),
      status: statusOf(service.reconciling, service.terminalCondition),
    };
  }

  async function get(name: string): Promise<Service> {
    try {
      const [service] = await (await client()).getService({ name });
      return service;
    } catch (err) {
      const error = translateGcpError(err, "Cloud Run GetService");
      if (error instanceof NotFoundError) throw new NotFoundError(`run.service ${name} not found`, { cause: err });
      throw error;
    }
  }

  /** UpdateService with the read service's etag, replacing `paths`; answers the service as it is now. */
  async function write(current: Service, body: Service, paths: string[]): Promise<Service> {
    try {
      await (await client()).updateService({
        service: { ...body, name: current.name, etag: current.etag ?? "" },
        updateMask: { paths },
      });
    } catch (err) {
      throw translateGcpError(err, "Cloud Run UpdateService");
    }
    return get(current.name ?? "");
  }

  const comparison = configComparison({ what, parse: parseRunServiceConfig, locate, existingName, get, actualConfig });

  return {
    type: "run.service",
    sensitiveKeys,

    async create(ref, raw) {
      const config = parseRunServiceConfig(raw);
      const where = locate(ref, config);
      const body = serviceBody(config, where);
      try {
        // Not waited for: the operation ends when the first revision is ready, which health reports.
        await (await client()).createService({
          parent: `projects/${where.project}/locations/${where.region}`,
          serviceId: ref.name,
          service: body,
        });
      } catch (err) {
        throw translateGcpError(err, "Cloud Run CreateService");
      }
      return state(ref, await get(where.name));
    },

    async read(ref) {
      return state(ref, await get(locate(ref).name));
    },

    async update(ref, raw) {
      const config = parseRunServiceConfig(raw);
      const where = locate(ref, config);
      const current = await get(existingName(ref, config));
      const blocked = diffConfig({ ...actualConfig(current) }, { ...config }, { replaceOn })
        .filter((change) => change.requiresReplacement)
        .map((change) => change.path);
      if (blocked.length > 0)
        throw new InvalidArgumentError(
          `run.service ${JSON.stringify(ref.name)}: ${blocked.join(", ")} cannot change in place; delete the service and create it again`,
        );
      return state(ref, await write(current, serviceBody(config, where), managedPaths));
    },

    async delete(ref) {
      try {
        await (await client()).deleteService({ name: locate(ref).name });
      } catch (err) {
        const error = translateGcpError(err, "Cloud Run DeleteService");
        // Deleting a missing resource succeeds (resource.proto).
        if (!(error instanceof NotFoundError)) throw error;
      }
    },

    ...comparison,

    async health(ref) {
      const service = await get(locate(ref).name);
      const ready = readyOf(service);
      const revision = (name: string | null | undefined) => name?.split("/").at(-1) || "none";
      const instances = service.scaling
        ? `; instances min ${service.scaling.minInstanceCount ?? 0}, max ${service.scaling.maxInstanceCount || "unset"}`
        : "";
      if (service.reconciling)
        return {
          healthy: false,
          message: `reconciling: deploying revision ${revision(service.latestCreatedRevision)}, serving ${revision(service.latestReadyRevision)}${instances}`,
        };
      if (ready.state !== "CONDITION_SUCCEEDED")
        return {
          healthy: false,
          message: `not ready (${String(ready.state ?? "no Ready condition")}${ready.reason ? `, ${ready.reason}` : ""}): ${ready.message ?? ""}; serving ${revision(service.latestReadyRevision)}${instances}`,
        };
      return {
        healthy: true,
        message: `ready: serving revision ${revision(service.latestReadyRevision)} at ${service.uri ?? ""}${instances}`,
      };
    },

    async scale(ref, replicas) {
      if (!Number.isInteger(replicas) || replicas < 0 || replicas > MAX_REPLICAS)
        throw new InvalidArgumentError(
          `ScaleResource.replicas: ${replicas} is outside 0..${MAX_REPLICAS}; a Cloud Run service's minimum instance count is a non-negative int32`,
        );
      const current = await get(locate(ref).name);
      const max = current.scaling?.maxInstanceCount ?? 0;
      const scaling = {
        minInstanceCount: replicas,
        // A minimum needs a maximum at least as large; a service without one gets Cloud Run's default.
        maxInstanceCount: max > 0 ? Math.max(max, replicas) : Math.max(defaultMaxInstances, replicas),
      };
      // The whole service goes back with only `scaling` changed, so the write means the same whether the
      // service applies the update mask or replaces what it is sent.
      return state(ref, await write(current, { ...settableFields(current), scaling }, ["scaling"]));
    },

    async troubleshoot(ref) {
      const service = await get(locate(ref).name);
      const diagnostics = conditionDiagnostics(service.terminalCondition, service.conditions);
      if (service.latestCreatedRevision && service.latestCreatedRevision !== service.latestReadyRevision)
        diagnostics.push({
          severity: service.reconciling ? DiagnosticSeverity.INFO : DiagnosticSeverity.WARNING,
          summary: `revision ${service.latestCreatedRevision.split("/").at(-1)} is not serving`,
          detail: `traffic stays on ${service.latestReadyRevision?.split("/").at(-1) || "no revision"} until it is ready; its logs are in Cloud Logging (resource.type="cloud_run_revision")`,
        });
      if (diagnostics.length === 0)
        diagnostics.push({
          severity: DiagnosticSeverity.INFO,
          summary: "Ready: every condition succeeded",
          detail: "",
        });
      return diagnostics;
    },
  };
}

/** A service's user-settable fields as read (service.proto: the fields neither OUTPUT_ONLY nor IDENTIFIER). */
function settableFields(service: Service): Service {
  const { labels, annotations, ingress, template, traffic, scaling, description, launchStage } = service;
  return { labels, annotations, ingress, template, traffic, scaling, description, launchStage };
}
