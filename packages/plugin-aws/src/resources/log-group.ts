/**
 * The "logs.log-group" resource type: a CloudWatch Logs group (where ECS
 * jobs and services write their logs). Config (JSON): { retentionInDays?,
 * kmsKeyId? }. The resource's name is the group name. Retention changes in
 * place; a KMS key change needs the group recreated. A log group has no
 * replicas, so Scale is rejected.
 */
import type { CloudWatchLogsClient, LogGroup } from "@aws-sdk/client-cloudwatch-logs";
import {
  checkAgainstSchema,
  diffConfig,
  formatProblems,
  jsonBytes,
  type ResourceStateInit,
  type ResourceType,
  type SchemaNode,
} from "@flotilla/plugin-sdk";
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, type ResourceRef } from "@flotilla/protocol";
import { translateAwsError } from "../errors.js";
import type { AwsRuntime } from "../runtime.js";

const retentionDays = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** JSON Schema of a logs.log-group config. */
export const logGroupConfigSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    retentionInDays: {
      type: "integer",
      enum: retentionDays,
      description: "days to keep events; unset keeps them forever",
    },
    kmsKeyId: { type: "string", pattern: "^arn:aws[a-z-]*:kms:", description: "KMS key ARN to encrypt the group with" },
  },
} as const satisfies SchemaNode;

interface LogGroupConfig {
  retentionInDays?: number;
  kmsKeyId?: string;
}

function parse(config: Record<string, unknown>): LogGroupConfig {
  const problems = checkAgainstSchema(config, logGroupConfigSchema as unknown as SchemaNode);
  if (problems.length > 0)
    throw new InvalidArgumentError(`logs.log-group config is invalid: ${formatProblems(problems)}`);
  return config as LogGroupConfig;
}

/** The logs.log-group resource type over a runtime getter. */
export function logGroupType(runtime: () => AwsRuntime): ResourceType {
  const logsModule = () => import("@aws-sdk/client-cloudwatch-logs");
  const client = (): Promise<CloudWatchLogsClient> => runtime().clients.logs();

  async function find(ref: ResourceRef): Promise<LogGroup> {
    const { DescribeLogGroupsCommand } = await logsModule();
    try {
      const out = await (await client()).send(new DescribeLogGroupsCommand({ logGroupNamePrefix: ref.name }));
      const group = out.logGroups?.find((g) => g.logGroupName === ref.name);
      if (!group) throw new NotFoundError(`logs.log-group ${JSON.stringify(ref.name)} not found`);
      return group;
    } catch (err) {
      throw translateAwsError(err, "CloudWatch Logs DescribeLogGroups");
    }
  }

  function actualConfig(group: LogGroup): LogGroupConfig {
    return {
      ...(group.retentionInDays ? { retentionInDays: group.retentionInDays } : {}),
      ...(group.kmsKeyId ? { kmsKeyId: group.kmsKeyId } : {}),
    };
  }

  function state(ref: ResourceRef, group: LogGroup): ResourceStateInit {
    return {
      ref: { type: ref.type, name: ref.name, providerId: group.logGroupArn ?? group.arn ?? "" },
      configJson: jsonBytes(actualConfig(group)),
      outputsJson: jsonBytes({ arn: group.logGroupArn ?? group.arn, storedBytes: group.storedBytes ?? 0 }),
      status: "ACTIVE",
    };
  }

  async function setRetention(name: string, days: number | undefined): Promise<void> {
    const { DeleteRetentionPolicyCommand, PutRetentionPolicyCommand } = await logsModule();
    try {
      const logs = await client();
      if (days === undefined) await logs.send(new DeleteRetentionPolicyCommand({ logGroupName: name }));
      else await logs.send(new PutRetentionPolicyCommand({ logGroupName: name, retentionInDays: days }));
    } catch (err) {
      throw translateAwsError(err, "CloudWatch Logs retention policy");
    }
  }

  return {
    type: "logs.log-group",
    // A KMS key ARN and a retention are not secrets.
    sensitiveKeys: [],

    async create(ref, raw) {
      const config = parse(raw);
      const { CreateLogGroupCommand } = await logsModule();
      try {
        await (await client()).send(
          new CreateLogGroupCommand({
            logGroupName: ref.name,
            ...(config.kmsKeyId ? { kmsKeyId: config.kmsKeyId } : {}),
            tags: { "flotilla:managed-by": "flotilla" },
          }),
        );
      } catch (err) {
        const translated = translateAwsError(err, "CloudWatch Logs CreateLogGroup");
        if (translated instanceof AlreadyExistsError)
          throw new AlreadyExistsError(`logs.log-group ${JSON.stringify(ref.name)} already exists`, { cause: err });
        throw translated;
      }
      if (config.retentionInDays !== undefined) await setRetention(ref.name, config.retentionInDays);
      return state(ref, await find(ref));
    },

    async read(ref) {
      return state(ref, await find(ref));
    },

    async update(ref, raw) {
      const config = parse(raw);
      const actual = actualConfig(await find(ref));
      if ((config.kmsKeyId ?? "") !== (actual.kmsKeyId ?? "")) {
        throw new InvalidArgumentError(
          `logs.log-group ${JSON.stringify(ref.name)}: /kmsKeyId cannot change in place; delete and create the group`,
        );
      }
      if (config.retentionInDays !== actual.retentionInDays) await setRetention(ref.name, config.retentionInDays);
      return state(ref, await find(ref));
    },

    async delete(ref) {
      const { DeleteLogGroupCommand } = await logsModule();
      try {
        await (await client()).send(new DeleteLogGroupCommand({ logGroupName: ref.name }));
      } catch (err) {
        const translated = translateAwsError(err, "CloudWatch Logs DeleteLogGroup");
        if (!(translated instanceof NotFoundError)) throw translated;
      }
    },

    async diff(ref, desired) {
      const config = parse(desired);
      return diffConfig(
        { ...actualConfig(await find(ref)) },
        { ...config },
        { replaceOn: ["/kmsKeyId"], sensitive: this.sensitiveKeys },
      );
    },

    async health(ref) {
      const group = await find(ref);
      return {
        healthy: true,
        message: `log group exists; retention ${group.retentionInDays ? `${group.retentionInDays} days` : "forever"}`,
      };
    },

    async scale() {
      throw new InvalidArgumentError("ScaleResource: a logs.log-group has no replicas to scale");
    },

    async troubleshoot() {
      return [];
    },
  };
}
