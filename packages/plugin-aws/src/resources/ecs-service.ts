/**
 * The "ecs.service" resource type: a long-running ECS service.
 *
 * Config (JSON): { taskDefinition (family, family:revision or ARN),
 * desiredCount, cluster?, launchType? | capacityProvider?, subnets?,
 * securityGroups?, assignPublicIp? }. The resource's name is the service
 * name. Health compares running with desired count and checks the primary
 * deployment finished rolling out; troubleshooting reads the service's
 * events and the reasons its recently stopped tasks gave.
 */
import type { ECSClient, Service } from "@aws-sdk/client-ecs";
import { checkAgainstSchema, diffConfig, formatProblems, type SchemaNode } from "@flotilla/plugin-sdk";
import {
  AlreadyExistsError,
  DiagnosticSeverity,
  InvalidArgumentError,
  NotFoundError,
  type ResourceRef,
} from "@flotilla/protocol";
import { translateAwsError } from "../errors.js";
import type { AwsRuntime } from "../runtime.js";
import { type DiagnosticInit, jsonBytes, type ResourceStateInit, type ResourceType } from "./resource-type.js";

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
}

/** Keys whose change needs the service recreated (ECS cannot change them in place). */
const replaceOn = ["/cluster", "/launchType"];

function parse(config: Record<string, unknown>, partial = false): EcsServiceConfig {
  const schema = partial ? { ...ecsServiceConfigSchema, required: [] } : ecsServiceConfigSchema;
  const problems = checkAgainstSchema(config, schema as unknown as SchemaNode);
  if (problems.length > 0) throw new InvalidArgumentError(`ecs.service config is invalid: ${formatProblems(problems)}`);
  return config as unknown as EcsServiceConfig;
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

  async function describe(ref: ResourceRef, cluster = clusterOf()): Promise<Service> {
    const { DescribeServicesCommand } = await ecsModule();
    let services: Service[];
    try {
      services =
        (await (await client()).send(new DescribeServicesCommand({ cluster, services: [ref.name] }))).services ?? [];
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
            tags: [{ key: "flotilla:managed-by", value: "flotilla" }],
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
      const actual = actualConfig(await describe(ref, clusterOf(config)));
      const blocked = diffConfig({ ...actual }, { ...config }, { replaceOn }).filter((c) => c.requiresReplacement);
      if (blocked.length > 0) {
        throw new InvalidArgumentError(
          `ecs.service ${JSON.stringify(ref.name)}: ${blocked.map((c) => c.path).join(", ")} cannot change in place; delete and create the service`,
        );
      }
      return update(ref, {
        taskDefinition: config.taskDefinition,
        ...(config.desiredCount !== undefined ? { desiredCount: config.desiredCount } : {}),
        config,
      });
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
