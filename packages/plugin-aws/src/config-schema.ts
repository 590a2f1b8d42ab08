/**
 * The AWS plugin's provider configuration and job target: their JSON
 * Schemas (published in the ContractRegistry so the host can reject a bad
 * config before starting anything) and the parsing that applies the same
 * schemas inside the plugin, failing with the key and the reason before any
 * AWS call is made.
 */

import { checkAgainstSchema, formatProblems, type SchemaNode } from "@flotilla/plugin-sdk";
import { type AwsEcsTarget, InvalidArgumentError, type JobTarget } from "@flotilla/protocol";
import { defaultLogDrainGraceMs, defaultLogRequestsPerSecond } from "./logs.js";

const regionPattern = "^[a-z]{2}(-[a-z]+)+-\\d+$";
const subnetPattern = "^subnet-[0-9a-f]{8,17}$";
const securityGroupPattern = "^sg-[0-9a-f]{8,17}$";
const roleArnPattern = "^arn:aws[a-z-]*:iam::\\d{12}:role/.+$";
const launchTypes = ["FARGATE", "EC2", "EXTERNAL"] as const;

/** JSON Schema (draft 2020-12) of the provider config accepted by Configure. */
export const awsConfigSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  title: "Flotilla AWS provider configuration",
  type: "object",
  additionalProperties: false,
  required: ["region"],
  properties: {
    region: { type: "string", pattern: regionPattern, description: "AWS region, e.g. eu-west-1" },
    cluster: {
      type: "string",
      minLength: 1,
      description: 'default ECS cluster name or ARN for jobs; default "default"',
    },
    subnets: {
      type: "array",
      items: { type: "string", pattern: subnetPattern, description: "a subnet id, e.g. subnet-0abc1234" },
    },
    securityGroups: {
      type: "array",
      items: { type: "string", pattern: securityGroupPattern, description: "a security group id, e.g. sg-0abc1234" },
    },
    assignPublicIp: { type: "boolean", description: "give Fargate tasks a public IP; default false" },
    launchType: {
      type: "string",
      enum: launchTypes,
      description: "default launch type; FARGATE when no capacity provider is set",
    },
    capacityProvider: { type: "string", minLength: 1, description: "default capacity provider, e.g. FARGATE_SPOT" },
    executionRoleArn: {
      type: "string",
      pattern: roleArnPattern,
      description:
        "IAM role ECS uses to pull images, write logs and read secrets; required for Fargate jobs (their awslogs driver writes with it), here or in the job target",
    },
    taskRoleArn: { type: "string", pattern: roleArnPattern, description: "IAM role the job's container assumes" },
    logGroup: {
      type: "string",
      pattern: "^[\\w\\-./#]{1,512}$",
      description: "CloudWatch Logs group for job logs; default /flotilla/jobs",
    },
    accountId: {
      type: "string",
      pattern: "^\\d{12}$",
      description: "12-digit account id, used to build Secrets Manager ARNs from secret names",
    },
    profile: {
      type: "string",
      minLength: 1,
      description: "shared config/credentials profile to use instead of the default credential chain",
    },
    roleArn: {
      type: "string",
      pattern: roleArnPattern,
      description: "IAM role to assume on top of the base credentials",
    },
    roleSessionName: {
      type: "string",
      pattern: "^[\\w+=,.@-]{2,64}$",
      description: "session name when assuming roleArn; default flotilla",
    },
    externalId: { type: "string", minLength: 2, description: "external id when assuming roleArn" },
    endpoint: {
      type: "string",
      pattern: "^https?://",
      description: "endpoint override for ECS, CloudWatch Logs and EC2 (tests, LocalStack)",
    },
    maxAttempts: {
      type: "integer",
      minimum: 1,
      maximum: 10,
      description: "SDK attempts per call including retries; default 3",
    },
    statusPollIntervalMs: {
      type: "integer",
      minimum: 10,
      maximum: 600000,
      description: "how often tracked tasks are polled; default 2000",
    },
    logPollIntervalMs: {
      type: "integer",
      minimum: 10,
      maximum: 600000,
      description: "how often a followed log is read; default 1000",
    },
    logRequestsPerSecond: {
      type: "integer",
      minimum: 1,
      maximum: 10000,
      description:
        "GetLogEvents calls per second shared by every followed log of a region (CloudWatch's quota is 25 per account and Region); default 20",
    },
    logDrainGraceMs: {
      type: "integer",
      minimum: 0,
      maximum: 600000,
      description:
        "after a followed job stopped, keep reading its log until no new line came for this long (CloudWatch delivers lines late); default 10000",
    },
  },
} as const satisfies SchemaNode & Record<string, unknown>;

/** JSON Schema of the JobTarget this plugin accepts, in the protobuf JSON mapping. */
export const awsTargetSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  title: "Flotilla AWS job target (JobTarget with aws_ecs set)",
  type: "object",
  additionalProperties: false,
  properties: {
    awsEcs: {
      type: "object",
      additionalProperties: false,
      properties: {
        region: { type: "string", pattern: regionPattern, description: "AWS region, e.g. eu-west-1" },
        cluster: { type: "string", description: "cluster name or ARN" },
        launchType: { type: "string", enum: ["", ...launchTypes] },
        capacityProvider: { type: "string" },
        subnets: { type: "array", items: { type: "string", pattern: subnetPattern } },
        securityGroups: { type: "array", items: { type: "string", pattern: securityGroupPattern } },
        assignPublicIp: { type: "boolean" },
        taskRoleArn: { type: "string", pattern: `${roleArnPattern}|^$` },
        executionRoleArn: { type: "string", pattern: `${roleArnPattern}|^$` },
        logGroup: { type: "string" },
      },
    },
  },
} as const satisfies SchemaNode & Record<string, unknown>;

/** The provider config after validation, with defaults applied. */
export interface AwsProviderConfig {
  region: string;
  cluster: string;
  subnets: string[];
  securityGroups: string[];
  assignPublicIp: boolean;
  launchType?: (typeof launchTypes)[number];
  capacityProvider?: string;
  executionRoleArn?: string;
  taskRoleArn?: string;
  logGroup: string;
  accountId?: string;
  profile?: string;
  roleArn?: string;
  roleSessionName: string;
  externalId?: string;
  endpoint?: string;
  maxAttempts: number;
  statusPollIntervalMs: number;
  logPollIntervalMs: number;
  logDrainGraceMs: number;
  logRequestsPerSecond: number;
}

/**
 * Parses and validates the provider config JSON. Throws InvalidArgumentError
 * naming every bad key and why, so nothing is called with a config that
 * cannot work.
 */
export function parseAwsConfig(configJson: Uint8Array | string): AwsProviderConfig {
  const text = typeof configJson === "string" ? configJson : new TextDecoder().decode(configJson);
  let raw: unknown;
  try {
    raw = text.trim() === "" ? {} : JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(
      `aws provider config: not valid JSON (${(err as Error).message}); pass a JSON object like {"region":"eu-west-1"}`,
    );
  }
  const problems = checkAgainstSchema(raw, awsConfigSchema as unknown as SchemaNode);
  const config = raw as Partial<AwsProviderConfig>;
  if (problems.length === 0 && config.launchType && config.capacityProvider) {
    problems.push({ key: "capacityProvider", reason: "cannot be combined with launchType; set one of them" });
  }
  if (
    problems.length === 0 &&
    (config.roleSessionName !== undefined || config.externalId !== undefined) &&
    !config.roleArn
  ) {
    problems.push({ key: "roleArn", reason: "is required when roleSessionName or externalId is set" });
  }
  if (problems.length > 0)
    throw new InvalidArgumentError(`aws provider config is invalid: ${formatProblems(problems)}`);
  return {
    ...config,
    region: config.region as string,
    cluster: config.cluster ?? "default",
    subnets: config.subnets ?? [],
    securityGroups: config.securityGroups ?? [],
    assignPublicIp: config.assignPublicIp ?? false,
    logGroup: config.logGroup ?? "/flotilla/jobs",
    roleSessionName: config.roleSessionName ?? "flotilla",
    maxAttempts: config.maxAttempts ?? 3,
    statusPollIntervalMs: config.statusPollIntervalMs ?? 2000,
    logPollIntervalMs: config.logPollIntervalMs ?? 1000,
    logDrainGraceMs: config.logDrainGraceMs ?? defaultLogDrainGraceMs,
    logRequestsPerSecond: config.logRequestsPerSecond ?? defaultLogRequestsPerSecond,
  };
}

/** Where a job runs once the JobSpec's target and the provider defaults are merged. */
export interface ResolvedEcsTarget {
  region: string;
  cluster: string;
  launchType?: string;
  capacityProvider?: string;
  subnets: string[];
  securityGroups: string[];
  assignPublicIp: boolean;
  taskRoleArn?: string;
  executionRoleArn?: string;
  logGroup: string;
  /** True when the task runs on Fargate (launch type or FARGATE* capacity provider). */
  fargate: boolean;
}

/**
 * Merges a JobSpec target with the provider defaults and checks it. A target
 * of another cloud is rejected naming the kind this plugin expects.
 */
export function resolveEcsTarget(target: JobTarget | undefined, config: AwsProviderConfig): ResolvedEcsTarget {
  const kind = target?.kind.case;
  if (kind !== undefined && kind !== "awsEcs") {
    throw new InvalidArgumentError(
      `JobSpec.target: the aws plugin runs jobs on ECS and needs target.aws_ecs, got target.${kind}`,
    );
  }
  const t: Partial<AwsEcsTarget> = kind === "awsEcs" ? (target?.kind.value as AwsEcsTarget) : {};
  const problems = checkAgainstSchema(
    {
      region: t.region || undefined,
      cluster: t.cluster || undefined,
      launchType: t.launchType || undefined,
      subnets: t.subnets,
      securityGroups: t.securityGroups,
      taskRoleArn: t.taskRoleArn || undefined,
      executionRoleArn: t.executionRoleArn || undefined,
    },
    awsTargetSchema.properties.awsEcs as unknown as SchemaNode,
    "target.aws_ecs",
  );
  const launchType = t.launchType || (t.capacityProvider ? undefined : config.launchType);
  const capacityProvider = t.capacityProvider || (t.launchType ? undefined : config.capacityProvider);
  if (t.launchType && t.capacityProvider) {
    problems.push({
      key: "target.aws_ecs.capacity_provider",
      reason: "cannot be combined with launch_type; set one of them",
    });
  }
  const resolvedLaunchType = launchType ?? (capacityProvider ? undefined : "FARGATE");
  const fargate = resolvedLaunchType === "FARGATE" || (capacityProvider?.startsWith("FARGATE") ?? false);
  const subnets = t.subnets?.length ? [...t.subnets] : config.subnets;
  if (fargate && subnets.length === 0) {
    problems.push({
      key: "target.aws_ecs.subnets",
      reason:
        "Fargate tasks need at least one subnet (awsvpc networking); set subnets in the target or in the provider config",
    });
  }
  const assignPublicIp = t.assignPublicIp || config.assignPublicIp;
  if (assignPublicIp && !fargate) {
    // ECS answers InvalidParameterException "Assign public IP is not supported for this launch type."
    // for EC2 tasks (aws/aws-cdk#13348, hashicorp/waypoint#643; aws/containers-roadmap#450 asks for it).
    problems.push({
      key: t.assignPublicIp ? "target.aws_ecs.assign_public_ip" : "assignPublicIp",
      reason: `only Fargate tasks can get a public IP, and this job runs on ${launchType ?? `capacity provider ${capacityProvider}`}; unset it, or run on Fargate`,
    });
  }
  if (problems.length > 0) throw new InvalidArgumentError(`JobSpec target is invalid: ${formatProblems(problems)}`);
  const taskRoleArn = t.taskRoleArn || config.taskRoleArn;
  const executionRoleArn = t.executionRoleArn || config.executionRoleArn;
  return {
    region: t.region || config.region,
    cluster: t.cluster || config.cluster,
    ...(resolvedLaunchType ? { launchType: resolvedLaunchType } : {}),
    ...(capacityProvider ? { capacityProvider } : {}),
    subnets,
    securityGroups: t.securityGroups?.length ? [...t.securityGroups] : config.securityGroups,
    assignPublicIp,
    ...(taskRoleArn ? { taskRoleArn } : {}),
    ...(executionRoleArn ? { executionRoleArn } : {}),
    logGroup: t.logGroup || config.logGroup,
    fargate,
  };
}
