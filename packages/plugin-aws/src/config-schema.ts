/**
 * The AWS plugin's provider configuration and job target, each declared once
 * (`defineConfig`, `defineJobTarget` of the SDK): the schemas the ContractRegistry
 * publishes so the host can reject a bad config before starting anything,
 * the checks Configure and RunJob apply (failing with the key and the reason
 * before any AWS call), defaults, and the types the plugin reads.
 */

import {
  type ConfigOf,
  defineConfig,
  defineJobTarget,
  formatProblems,
  type JobTarget,
  type SchemaProblem,
} from "@flotilla/plugin-sdk";
import { InvalidArgumentError } from "@flotilla/protocol";
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
      default: "default",
      description: "default ECS cluster name or ARN for jobs",
    },
    subnets: {
      type: "array",
      default: [],
      items: { type: "string", pattern: subnetPattern, description: "a subnet id, e.g. subnet-0abc1234" },
    },
    securityGroups: {
      type: "array",
      default: [],
      items: { type: "string", pattern: securityGroupPattern, description: "a security group id, e.g. sg-0abc1234" },
    },
    assignPublicIp: { type: "boolean", default: false, description: "give Fargate tasks a public IP" },
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
      default: "/flotilla/jobs",
      description: "CloudWatch Logs group for job logs",
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
      default: "flotilla",
      description: "session name when assuming roleArn",
    },
    // Not marked sensitive: AWS does not treat an external id as a secret (anyone who may read the role sees it).
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
      default: 3,
      description: "SDK attempts per call including retries",
    },
    statusPollIntervalMs: {
      type: "integer",
      minimum: 10,
      maximum: 600000,
      default: 2000,
      description: "how often tracked tasks are polled",
    },
    logPollIntervalMs: {
      type: "integer",
      minimum: 10,
      maximum: 600000,
      default: 1000,
      description: "how often a followed log is read",
    },
    logRequestsPerSecond: {
      type: "integer",
      minimum: 1,
      maximum: 10000,
      default: defaultLogRequestsPerSecond,
      description:
        "GetLogEvents calls per second shared by every followed log of a region (CloudWatch's quota is 25 per account and Region)",
    },
    logDrainGraceMs: {
      type: "integer",
      minimum: 0,
      maximum: 600000,
      default: defaultLogDrainGraceMs,
      description:
        "after a followed job stopped, keep reading its log until no new line came for this long (CloudWatch delivers lines late)",
    },
  },
} as const;

/** The provider config, declared once: `PluginDefinition.config` of the aws plugin. */
export const awsConfig = defineConfig({
  what: "aws provider config",
  schema: awsConfigSchema,
  rules(given) {
    const problems: SchemaProblem[] = [];
    if (given.launchType && given.capacityProvider) {
      problems.push({ key: "capacityProvider", reason: "cannot be combined with launchType; set one of them" });
    }
    if ((given.roleSessionName !== undefined || given.externalId !== undefined) && !given.roleArn) {
      problems.push({ key: "roleArn", reason: "is required when roleSessionName or externalId is set" });
    }
    return problems;
  },
});

/** The provider config after validation, with defaults applied. */
export type AwsProviderConfig = ConfigOf<typeof awsConfigSchema>;

/**
 * Parses and validates the provider config JSON, as Configure does. Throws
 * InvalidArgumentError naming every bad key and why, so nothing is called
 * with a config that cannot work.
 */
export const parseAwsConfig = awsConfig.parse;

/**
 * The job target, declared once: JobTarget.aws_ecs in protobuf JSON form.
 * Empty strings are allowed because they mean "unset" in protobuf JSON.
 */
export const awsTarget = defineJobTarget({
  plugin: "aws",
  kind: "awsEcs",
  title: "Flotilla AWS job target (JobTarget with aws_ecs set)",
  schema: {
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
});

/** JSON Schema of the JobTarget this plugin accepts, in the protobuf JSON mapping. */
export const awsTargetSchema = awsTarget.schema;

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
  const t = awsTarget.read(target);
  const problems: SchemaProblem[] = [];
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
