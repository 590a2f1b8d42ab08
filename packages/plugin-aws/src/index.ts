/**
 * @flotilla/plugin-aws — the AWS provider plugin: ECS task jobs with
 * CloudWatch logs, ECS service and log group resources, EC2 regions.
 * Run it through a host (`node dist/main.js`); import it for in-process use.
 */
export { type AwsClientSettings, AwsClients, type StaticAwsCredentials } from "./clients.js";
export {
  type AwsProviderConfig,
  awsConfigSchema,
  awsTargetSchema,
  parseAwsConfig,
  type ResolvedEcsTarget,
  resolveEcsTarget,
} from "./config-schema.js";
export { translateAwsError } from "./errors.js";
export { jobStatusFromTask } from "./job-status.js";
export { type AwsPlugin, awsPluginInfo, createAwsPlugin } from "./plugin.js";
