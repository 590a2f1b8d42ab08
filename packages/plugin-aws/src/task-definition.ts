/**
 * Task definitions derived from a JobSpec. RunTask overrides cannot change
 * the image, the entry point or the secrets, so those live in a task
 * definition. Its family is named from a hash of its content, so identical
 * jobs share one definition: it is registered once (or found after a plugin
 * restart with one DescribeTaskDefinition) and reused, not re-registered per
 * job.
 *
 * Secrets become ECS `secrets` whose `valueFrom` names the Secrets Manager
 * secret or SSM parameter; ECS resolves them when the task starts, so the
 * value never crosses the wire.
 */
import { createHash } from "node:crypto";
import type { ECSClient, RegisterTaskDefinitionCommandInput } from "@aws-sdk/client-ecs";
import { canonicalJson } from "@flotilla/plugin-sdk";
import { Code, InvalidArgumentError, type JobSpec, parseSecretReference } from "@flotilla/protocol";
import type { AwsProviderConfig, ResolvedEcsTarget } from "./config-schema.js";
import { translateAwsError } from "./errors.js";

/** The name of the one container in every job task definition. */
export const jobContainerName = "job";
/** The awslogs stream prefix; a job's stream is `<prefix>/job/<task id>`. */
export const logStreamPrefix = "flotilla";

/**
 * The task sizes Fargate accepts: each CPU size with the memory sizes (MiB)
 * allowed with it. Source: the ECS API reference, RegisterTaskDefinition
 * `memory` ("512 (0.5 GB), 1024 (1 GB), 2048 (2 GB) - Available cpu values:
 * 256 (.25 vCPU)" ... "Between 32GB and 120 GB in 8 GB increments - Available
 * cpu values: 16384 (16 vCPU)"), as carried in @aws-sdk/client-ecs's model,
 * and the developer guide's "Troubleshoot Amazon ECS task definition invalid
 * CPU or memory errors" table.
 */
export const fargateTaskSizes: ReadonlyArray<{ cpu: number; memory: readonly number[] }> = [
  { cpu: 256, memory: [512, 1024, 2048] },
  { cpu: 512, memory: steps(1024, 4096, 1024) },
  { cpu: 1024, memory: steps(2048, 8192, 1024) },
  { cpu: 2048, memory: steps(4096, 16384, 1024) },
  { cpu: 4096, memory: steps(8192, 30720, 1024) },
  { cpu: 8192, memory: steps(16384, 61440, 4096) },
  { cpu: 16384, memory: steps(32768, 122880, 8192) },
];

function steps(from: number, to: number, by: number): number[] {
  const out: number[] = [];
  for (let m = from; m <= to; m += by) out.push(m);
  return out;
}

/**
 * Task CPU on EC2 and external instances: "Supported values are between 128
 * CPU units (0.125 vCPUs) and 196608 CPU units (192 vCPUs)" (ECS API
 * reference, RegisterTaskDefinition `cpu`).
 */
export const ec2TaskCpuUnits = { min: 128, max: 196_608 } as const;

function fargateOptionsText(): string {
  return fargateTaskSizes
    .map(({ cpu, memory }) => {
      const first = memory[0] as number;
      const last = memory.at(-1) as number;
      const step = (memory[1] as number) - first;
      return cpu === 256 ? `${cpu} CPU: 512, 1024 or 2048 MiB` : `${cpu} CPU: ${first}-${last} MiB in steps of ${step}`;
    })
    .join("; ");
}

/**
 * The task-level cpu and memory for a job: on Fargate the smallest size
 * Fargate offers that covers both the requested CPU and memory; on EC2 and
 * external instances the request itself (CPU at least 128 units).
 */
export function taskSize(millicores: number, memoryMib: number, fargate: boolean): { cpu: number; memory: number } {
  const units = millicores > 0 ? Math.ceil((millicores * 1024) / 1000) : 0;
  if (!fargate) {
    if (units > ec2TaskCpuUnits.max)
      throw new InvalidArgumentError(
        `JobSpec.resources.cpu_millicores: ${millicores} is more than ECS allows for a task on EC2 or external instances (196608 CPU units, 192 vCPU); ask for at most 192000`,
      );
    return { cpu: Math.max(units || 256, ec2TaskCpuUnits.min), memory: memoryMib > 0 ? memoryMib : 512 };
  }
  for (const size of fargateTaskSizes) {
    if (size.cpu < units) continue;
    const memory = size.memory.find((m) => m >= memoryMib);
    if (memory !== undefined) return { cpu: size.cpu, memory };
  }
  throw new InvalidArgumentError(
    `JobSpec.resources: ${millicores} millicores with ${memoryMib} MiB is more than any Fargate task size offers (at most 16 vCPU = 16000 millicores and 122880 MiB); ask for less, or run the job on EC2 capacity (launch_type EC2). Fargate sizes: ${fargateOptionsText()}`,
  );
}

function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

/**
 * The ECS `valueFrom` for a secret reference. Accepted stores:
 * `secret://arn:aws:secretsmanager:...` or `secret://arn:aws:ssm:...` (the ARN,
 * used as is), `secret://ssm/<parameter name>` (same-region parameter by name),
 * `secret://secretsmanager/<name>[:json-key::]` (needs accountId to build the
 * ARN). The grammar is @flotilla/protocol's; errors name the variable, and never
 * echo a value that is not a reference.
 */
export function secretValueFrom(
  variable: string,
  reference: string,
  region: string,
  accountId: string | undefined,
): string {
  const where = `JobSpec.secret_env[${JSON.stringify(variable)}]`;
  const { store, rest } = parseSecretReference(reference, where);
  if (store === "arn" && /^aws[a-z-]*:(secretsmanager|ssm):/.test(rest)) return `arn:${rest}`;
  if (store === "ssm") return rest;
  if (store === "secretsmanager") {
    if (!accountId) {
      throw new InvalidArgumentError(
        `${where}: secret://secretsmanager/<name> needs the provider config key accountId to build the secret's ARN; set accountId or use secret://arn:aws:secretsmanager:...`,
      );
    }
    return `arn:${partitionOf(region)}:secretsmanager:${region}:${accountId}:secret:${rest}`;
  }
  throw new InvalidArgumentError(
    `${where}: secret store ${JSON.stringify(store)} is not one ECS resolves; use secret://ssm/<name>, secret://secretsmanager/<name> or secret://arn:aws:(secretsmanager|ssm):...`,
  );
}

/** The RegisterTaskDefinition input for a job, family named from its content hash. */
export function taskDefinitionFor(
  spec: JobSpec,
  target: ResolvedEcsTarget,
  config: Pick<AwsProviderConfig, "accountId">,
): RegisterTaskDefinitionCommandInput {
  if (spec.image.trim() === "")
    throw new InvalidArgumentError("JobSpec.image: required; the aws plugin runs container images on ECS");
  const secrets = Object.entries(spec.secretEnv)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, reference]) => ({
      name,
      valueFrom: secretValueFrom(name, reference, target.region, config.accountId),
    }));
  if (secrets.length > 0 && !target.executionRoleArn) {
    throw new InvalidArgumentError(
      "JobSpec.secret_env: ECS reads secrets with the task execution role; set executionRoleArn in the provider config or target.aws_ecs.execution_role_arn",
    );
  }
  if (target.fargate && !target.executionRoleArn) {
    // "Fargate requires task definition to have execution role ARN to support
    // log driver awslogs." (ClientException from RegisterTaskDefinition,
    // quoted in virtual-kubelet/virtual-kubelet#193); every job logs with awslogs.
    throw new InvalidArgumentError(
      "JobSpec target: Fargate tasks send their logs to CloudWatch with the task execution role, and none is set; set executionRoleArn in the provider config or target.aws_ecs.execution_role_arn (a role with the AmazonECSTaskExecutionRolePolicy)",
    );
  }
  const size = taskSize(spec.resources?.cpuMillicores ?? 0, spec.resources?.memoryMib ?? 0, target.fargate);
  const container = {
    name: jobContainerName,
    image: spec.image,
    essential: true,
    ...(spec.command.length > 0 ? { entryPoint: [...spec.command] } : {}),
    ...(spec.workingDir ? { workingDirectory: spec.workingDir } : {}),
    ...(secrets.length > 0 ? { secrets } : {}),
    logConfiguration: {
      logDriver: "awslogs" as const,
      options: {
        "awslogs-group": target.logGroup,
        "awslogs-region": target.region,
        "awslogs-stream-prefix": logStreamPrefix,
        "awslogs-create-group": "true",
      },
    },
  };
  const content = {
    containerDefinitions: [container],
    cpu: String(size.cpu),
    memory: String(size.memory),
    networkMode: target.fargate || target.subnets.length > 0 ? ("awsvpc" as const) : ("bridge" as const),
    requiresCompatibilities: [target.fargate ? "FARGATE" : target.launchType === "EXTERNAL" ? "EXTERNAL" : "EC2"] as (
      | "FARGATE"
      | "EC2"
      | "EXTERNAL"
    )[],
    ...(target.executionRoleArn ? { executionRoleArn: target.executionRoleArn } : {}),
    ...(target.taskRoleArn ? { taskRoleArn: target.taskRoleArn } : {}),
  };
  const family = `flotilla-${createHash("sha256").update(canonicalJson(content)).digest("hex").slice(0, 24)}`;
  return { family, ...content, tags: [{ key: "flotilla:managed-by", value: "flotilla" }] };
}

/**
 * Registers each distinct task definition once per plugin process and
 * region, and reuses one registered earlier (found by family) after a
 * restart. Concurrent RunJobs for the same content share one registration.
 */
export class TaskDefinitionRegistry {
  private readonly arns = new Map<string, Promise<string>>();
  /** Registrations this process made (for tests and diagnostics). */
  registrations = 0;

  /** The ARN of an active task definition with exactly this content. */
  ensure(ecs: ECSClient, region: string, input: RegisterTaskDefinitionCommandInput): Promise<string> {
    const key = `${region}/${input.family}`;
    let arn = this.arns.get(key);
    if (!arn) {
      arn = this.findOrRegister(ecs, input);
      this.arns.set(key, arn);
      arn.catch(() => this.arns.delete(key));
    }
    return arn;
  }

  private async findOrRegister(ecs: ECSClient, input: RegisterTaskDefinitionCommandInput): Promise<string> {
    const { DescribeTaskDefinitionCommand, RegisterTaskDefinitionCommand } = await import("@aws-sdk/client-ecs");
    try {
      const found = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: input.family }));
      if (found.taskDefinition?.status === "ACTIVE" && found.taskDefinition.taskDefinitionArn)
        return found.taskDefinition.taskDefinitionArn;
    } catch (err) {
      const translated = translateAwsError(err, "ECS DescribeTaskDefinition");
      // Not found: the content is new, register it below.
      if (translated.code !== Code.NotFound) throw translated;
    }
    try {
      const registered = await ecs.send(new RegisterTaskDefinitionCommand(input));
      this.registrations += 1;
      const arn = registered.taskDefinition?.taskDefinitionArn;
      if (!arn) throw new Error("RegisterTaskDefinition returned no ARN");
      return arn;
    } catch (err) {
      throw translateAwsError(err, "ECS RegisterTaskDefinition");
    }
  }
}
