/**
 * The "ecs.service" resource type: a long-running ECS service.
 *
 * Config (JSON): { taskDefinition (family, family:revision or ARN),
 * desiredCount, cluster?, launchType? | capacityProvider?, subnets?,
 * securityGroups?, assignPublicIp?, tags? }. The resource's name is the
 * service name. Health compares running with desired count and checks the
 * primary deployment finished rolling out; troubleshooting reads the
 * service's events and the reasons its recently stopped tasks gave; drift
 * compares a desired config with the service as ECS reports it.
 */
import type { ECSClient, Service, Tag } from "@aws-sdk/client-ecs";
import {
  checkAgainstSchema,
  type DiagnosticInit,
  diffConfig,
  formatProblems,
  jsonBytes,
  type ResourceStateInit,
  type ResourceType,
  type SchemaNode,
} from "@flotilla/plugin-sdk";
import {
  AlreadyExistsError,
  DiagnosticSeverity,
  InvalidArgumentError,
  NotFoundError,
  type ResourceRef,
} from "@flotilla/protocol";
import { translateAwsError } from "../errors.js";
import type { AwsRuntime } from "../runtime.js";

const int32Max = 2_147_483_647;

/** JSON Schema of an ecs.service config. */
export const ecsServiceConfigSchema = {
  type: "object",
  additionalProperties: false,
  required: ["taskDefinition"],
  properties: {
    taskDefinition: { type: "string", minLength: 1, description: "task definition family, family:revision or ARN" },
    desiredCount: { type: "integer", minimum: 0, maximum: int32Max },
    cluster: { type: "string", minLength: 1 },
    launchType: { type: "string", enum: ["FARGATE", "EC2", "EXTERNAL"] },
    capacityProvider: { type: "string", minLength: 1 },
    subnets: { type: "array", items: { type: "string", pattern: "^subnet-[0-9a-f]{8,17}$" } },
    securityGroups: { type: "array", items: { type: "string", pattern: "^sg-[0-9a-f]{8,17}$" } },
    assignPublicIp: { type: "boolean" },
    tags: {
      type: "object",
      description: "the service's own tags (Flotilla adds flotilla:managed-by)",
      additionalProperties: { type: "string", maxLength: 256 },
    },
  },
} as const satisfies SchemaNode;

interface EcsServiceConfig {
  taskDefinition: string;
  desiredCount?: number;
  cluster?: string;
  launchType?: "FARGATE" | "EC2" | "EXTERNAL";
  capacityProvider?: string;
  subnets?: string[];
  securityGroups?: string[];
  assignPublicIp?: boolean;
  tags?: Record<string, string>;
}

/** The tag Flotilla puts on every service it creates; not part of the user's `tags`. */
const managedByTag: Tag = { key: "flotilla:managed-by", value: "flotilla" };

/**
 * ECS tag rules (ECS API reference, Tag): at most 50 per resource, keys 1-128 and values at most 256
 * characters of letters, numbers, spaces and `+ - = . _ : / @`, and `aws:` in any case reserved as a
 * prefix of keys and of values.
 */
const tagCharacters = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

function checkServiceTags(tags: Record<string, string>): void {
  const entries = Object.entries(tags);
  if (entries.length > 49)
    throw new InvalidArgumentError(
      `ecs.service config tags: ${entries.length} tags, but ECS allows 50 per service and Flotilla uses one (flotilla:managed-by); keep at most 49`,
    );
  for (const [key, value] of entries) {
    const where = `ecs.service config tags[${JSON.stringify(key.slice(0, 70))}]`;
    if (key.length < 1 || key.length > 128) throw new InvalidArgumentError(`${where}: keys must be 1-128 characters`);
    if (!tagCharacters.test(key) || !tagCharacters.test(value))
      throw new InvalidArgumentError(
        `${where}: ECS allows only letters, numbers, spaces and + - = . _ : / @ in tag keys and values; replace the other characters`,
      );
    if (/^aws:/i.test(key) || /^aws:/i.test(value))
      throw new InvalidArgumentError(`${where}: "aws:" is reserved by AWS as a prefix of tag keys and values`);
    if (key === managedByTag.key)
      throw new InvalidArgumentError(`${where}: ${managedByTag.key} is Flotilla's own tag; use another key`);
  }
}

/** The user's tags among a service's tags: without Flotilla's own and without AWS's `aws:` ones. */
function userTags(tags: readonly Tag[] | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const { key, value } of tags ?? []) {
    if (key === undefined || key === managedByTag.key || /^aws:/i.test(key)) continue;
    result[key] = value ?? "";
  }
  return result;
}

/** Keys whose change needs the service recreated (ECS cannot change them in place). */
const replaceOn = ["/cluster", "/launchType"];

function parse(config: Record<string, unknown>, partial = false): EcsServiceConfig {
  const schema = partial ? { ...ecsServiceConfigSchema, required: [] } : ecsServiceConfigSchema;
  const problems = checkAgainstSchema(config, schema as unknown as SchemaNode);
  if (problems.length > 0) throw new InvalidArgumentError(`ecs.service config is invalid: ${formatProblems(problems)}`);
  const parsed = config as unknown as EcsServiceConfig;
  if (parsed.tags) checkServiceTags(parsed.tags);
  return parsed;
}

/**
 * A config in the form drift compares: subnets and security groups as sorted sets (ECS does not keep their
 * order), tags as the user's own, and the network keys only where a network is configured.
 */
function comparable(config: EcsServiceConfig, tags?: Record<string, string>): Record<string, unknown> {
  const sorted = (values: string[] | undefined) => (values ? [...values].sort() : undefined);
  return {
    ...config,
    subnets: sorted(config.subnets),
    securityGroups: sorted(config.securityGroups),
    ...(tags !== undefined ? { tags } : {}),
  };
}

function network(config: EcsServiceConfig) {
  if (!config.subnets?.length) return {};
  return {
    networkConfiguration: {
      awsvpcConfiguration: {
        subnets: config.subnets,
        ...(config.securityGroups?.length ? { securityGroups: config.securityGroups } : {}),
        assignPublicIp: config.assignPublicIp ? ("ENABLED" as const) : ("DISABLED" as const),
      },
    },
  };
}

/** The ecs.service resource type over a runtime getter. */
export function ecsServiceType(runtime: () => AwsRuntime): ResourceType {
  const ecsModule = () => import("@aws-sdk/client-ecs");
  const client = (): Promise<ECSClient> => runtime().clients.ecs();
  const clusterOf = (config?: { cluster?: string }) => config?.cluster ?? runtime().config.cluster;

  function actualConfig(service: Service): EcsServiceConfig {
    const vpc = service.networkConfiguration?.awsvpcConfiguration;
    const cluster = service.clusterArn?.slice(service.clusterArn.lastIndexOf("/") + 1);
    return {
      taskDefinition: service.taskDefinition ?? "",
      desiredCount: service.desiredCount ?? 0,
      ...(cluster ? { cluster } : {}),
      ...(service.launchType ? { launchType: service.launchType as EcsServiceConfig["launchType"] } : {}),
      ...(service.capacityProviderStrategy?.[0]?.capacityProvider
        ? { capacityProvider: service.capacityProviderStrategy[0].capacityProvider }
        : {}),
      ...(vpc?.subnets ? { subnets: vpc.subnets } : {}),
      ...(vpc?.securityGroups ? { securityGroups: vpc.securityGroups } : {}),
      ...(vpc ? { assignPublicIp: vpc.assignPublicIp === "ENABLED" } : {}),
    };
  }

  function state(ref: ResourceRef, service: Service): ResourceStateInit {
    return {
      ref: { type: ref.type, name: ref.name, providerId: service.serviceArn ?? "" },
      configJson: jsonBytes(actualConfig(service)),
      outputsJson: jsonBytes({
        serviceArn: service.serviceArn,
        clusterArn: service.clusterArn,
        runningCount: service.runningCount ?? 0,
        pendingCount: service.pendingCount ?? 0,
        desiredCount: service.desiredCount ?? 0,
      }),
      status: service.status ?? "",
    };
  }

  async function describe(ref: ResourceRef, cluster = clusterOf(), withTags = false): Promise<Service> {
    const { DescribeServicesCommand } = await ecsModule();
    let services: Service[];
    try {
      services =
        (
          await (
            await client()
          ).send(
            // ECS leaves tags out of the answer unless asked (DescribeServices `include`).
            new DescribeServicesCommand({ cluster, services: [ref.name], ...(withTags ? { include: ["TAGS"] } : {}) }),
          )
        ).services ?? [];
    } catch (err) {
      throw translateAwsError(err, "ECS DescribeServices");
    }
    const service = services.find((s) => s.status !== "INACTIVE");
    if (!service) throw new NotFoundError(`ecs.service ${JSON.stringify(ref.name)} not found in cluster ${cluster}`);
    return service;
  }

  async function update(
    ref: ResourceRef,
    fields: { desiredCount?: number; taskDefinition?: string; config?: EcsServiceConfig },
  ): Promise<ResourceStateInit> {
    const { UpdateServiceCommand } = await ecsModule();
    try {
      const out = await (await client()).send(
        new UpdateServiceCommand({
          cluster: clusterOf(fields.config),
          service: ref.name,
          ...(fields.desiredCount !== undefined ? { desiredCount: fields.desiredCount } : {}),
          ...(fields.taskDefinition ? { taskDefinition: fields.taskDefinition } : {}),
          ...(fields.config ? network(fields.config) : {}),
        }),
      );
      return state(ref, out.service ?? {});
    } catch (err) {
      throw translateAwsError(err, "ECS UpdateService");
    }
  }

  /**
   * The task definition ARN a config's `taskDefinition` means now: a bare family is its latest ACTIVE
   * revision, which is what CreateService and UpdateService would use (ECS API reference, `taskDefinition`:
   * "If a revision isn't specified, the latest ACTIVE revision is used").
   */
  async function taskDefinitionArn(taskDefinition: string): Promise<string> {
    const { DescribeTaskDefinitionCommand } = await ecsModule();
    try {
      const out = await (await client()).send(new DescribeTaskDefinitionCommand({ taskDefinition }));
      return out.taskDefinition?.taskDefinitionArn ?? taskDefinition;
    } catch (err) {
      const translated = translateAwsError(err, "ECS DescribeTaskDefinition");
      if (translated instanceof InvalidArgumentError || translated instanceof NotFoundError)
        throw new InvalidArgumentError(
          `ecs.service config taskDefinition: ${JSON.stringify(taskDefinition)} names no task definition ECS knows (${translated.message}); register it or correct the name`,
          { cause: err },
        );
      throw translated;
    }
  }

  /** Makes the service's own tags equal `wanted`, leaving Flotilla's and AWS's tags alone. */
  async function retag(service: Service, wanted: Record<string, string>): Promise<void> {
    const have = userTags(service.tags);
    const add = Object.entries(wanted).filter(([key, value]) => have[key] !== value);
    const remove = Object.keys(have).filter((key) => !(key in wanted));
    const { TagResourceCommand, UntagResourceCommand } = await ecsModule();
    const ecs = await client();
    try {
      if (add.length > 0)
        await ecs.send(
          new TagResourceCommand({
            resourceArn: service.serviceArn,
            tags: add.map(([key, value]) => ({ key, value })),
          }),
        );
      if (remove.length > 0)
        await ecs.send(new UntagResourceCommand({ resourceArn: service.serviceArn, tagKeys: remove }));
    } catch (err) {
      throw translateAwsError(err, "ECS TagResource/UntagResource");
    }
  }

  return {
    type: "ecs.service",
    // A service config holds references (task definition, subnets), never secret values.
    sensitiveKeys: [],

    async create(ref, raw) {
      const config = parse(raw);
      const { CreateServiceCommand } = await ecsModule();
      try {
        const out = await (await client()).send(
          new CreateServiceCommand({
            cluster: clusterOf(config),
            serviceName: ref.name,
            taskDefinition: config.taskDefinition,
            desiredCount: config.desiredCount ?? 1,
            ...(config.capacityProvider
              ? { capacityProviderStrategy: [{ capacityProvider: config.capacityProvider, weight: 1 }] }
              : { launchType: config.launchType ?? "FARGATE" }),
            ...network(config),
            tags: [...Object.entries(config.tags ?? {}).map(([key, value]) => ({ key, value })), managedByTag],
          }),
        );
        return state(ref, out.service ?? {});
      } catch (err) {
        if (/not idempotent/i.test((err as Error).message ?? "")) {
          throw new AlreadyExistsError(
            `ecs.service ${JSON.stringify(ref.name)} already exists in cluster ${clusterOf(config)}`,
            { cause: err },
          );
        }
        throw translateAwsError(err, "ECS CreateService");
      }
    },

    async read(ref) {
      return state(ref, await describe(ref));
    },

    async update(ref, raw) {
      const config = parse(raw);
      const service = await describe(ref, clusterOf(config), config.tags !== undefined);
      const actual = actualConfig(service);
      const blocked = diffConfig({ ...actual }, { ...config }, { replaceOn }).filter((c) => c.requiresReplacement);
      if (blocked.length > 0) {
        throw new InvalidArgumentError(
          `ecs.service ${JSON.stringify(ref.name)}: ${blocked.map((c) => c.path).join(", ")} cannot change in place; delete and create the service`,
        );
      }
      const updated = await update(ref, {
        taskDefinition: config.taskDefinition,
        ...(config.desiredCount !== undefined ? { desiredCount: config.desiredCount } : {}),
        config,
      });
      if (config.tags !== undefined) await retag(service, config.tags);
      return updated;
    },

    async delete(ref) {
      const { DeleteServiceCommand } = await ecsModule();
      try {
        await (await client()).send(new DeleteServiceCommand({ cluster: clusterOf(), service: ref.name, force: true }));
      } catch (err) {
        const translated = translateAwsError(err, "ECS DeleteService");
        // Deleting a missing resource succeeds (the contract says so).
        if (!(translated instanceof NotFoundError)) throw translated;
      }
    },

    async drift(ref, desired) {
      const config = parse(desired);
      let service: Service;
      try {
        service = await describe(ref, clusterOf(config), config.tags !== undefined);
      } catch (err) {
        // A missing resource is drift, not an error (drift.proto).
        if (err instanceof NotFoundError) return { missing: true, changes: [] };
        throw err;
      }
      const actual = comparable(actualConfig(service), userTags(service.tags));
      const wanted = comparable({ ...config, taskDefinition: await taskDefinitionArn(config.taskDefinition) });
      return { missing: false, changes: diffConfig(actual, wanted, { replaceOn }) };
    },

    async diff(ref, desired) {
      const config = parse(desired, true);
      const actual = actualConfig(await describe(ref, clusterOf(config)));
      return diffConfig({ ...actual }, { ...config }, { replaceOn, sensitive: this.sensitiveKeys });
    },

    async health(ref) {
      const service = await describe(ref);
      const desired = service.desiredCount ?? 0;
      const running = service.runningCount ?? 0;
      const primary = service.deployments?.find((d) => d.status === "PRIMARY");
      const rollout = primary?.rolloutState ?? "COMPLETED";
      const rolling = (service.deployments?.length ?? 0) > 1 || rollout !== "COMPLETED";
      const healthy = service.status === "ACTIVE" && running === desired && !rolling;
      const parts = [`${running} of ${desired} tasks running`];
      if (service.status !== "ACTIVE") parts.push(`service is ${service.status}`);
      if (rolling)
        parts.push(`deployment ${rollout}${primary?.rolloutStateReason ? `: ${primary.rolloutStateReason}` : ""}`);
      return { healthy, message: parts.join("; ") };
    },

    async scale(ref, replicas) {
      if (!Number.isInteger(replicas) || replicas < 0 || replicas > int32Max) {
        throw new InvalidArgumentError(
          `ScaleResource.replicas: ${replicas} is outside 0..${int32Max}; an ECS service's desiredCount is a non-negative int32`,
        );
      }
      return update(ref, { desiredCount: replicas });
    },

    async troubleshoot(ref) {
      const service = await describe(ref);
      const { DescribeTasksCommand, ListTasksCommand } = await ecsModule();
      const diagnostics: DiagnosticInit[] = [];
      try {
        const ecs = await client();
        const cluster = clusterOf();
        const listed = await ecs.send(
          new ListTasksCommand({ cluster, serviceName: ref.name, desiredStatus: "STOPPED" }),
        );
        const arns = (listed.taskArns ?? []).slice(0, 100);
        if (arns.length > 0) {
          const tasks = (await ecs.send(new DescribeTasksCommand({ cluster, tasks: arns }))).tasks ?? [];
          tasks.sort((a, b) => (b.stoppedAt?.getTime() ?? 0) - (a.stoppedAt?.getTime() ?? 0));
          for (const task of tasks.slice(0, 10)) {
            const containerReasons = (task.containers ?? []).map((c) => c.reason).filter(Boolean);
            diagnostics.push({
              severity: DiagnosticSeverity.ERROR,
              summary: `task stopped: ${task.stopCode ?? "unknown stop code"}`,
              detail: [task.stoppedReason, ...containerReasons].filter(Boolean).join("; "),
            });
          }
        }
      } catch (err) {
        throw translateAwsError(err, "ECS ListTasks/DescribeTasks");
      }
      for (const event of (service.events ?? []).slice(0, 10)) {
        const problem = /unable|fail|error|unhealthy|insufficient/i.test(event.message ?? "");
        diagnostics.push({
          severity: problem ? DiagnosticSeverity.WARNING : DiagnosticSeverity.INFO,
          summary: (event.message ?? "").slice(0, 200),
          detail: `${event.createdAt?.toISOString() ?? ""} ${event.message ?? ""}`.trim(),
        });
      }
      return diagnostics;
    },
  };
}
