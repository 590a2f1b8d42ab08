/**
 * The AWS plugin's definition for `serve()`: the provider (Configure builds
 * the runtime), the ECS job runner, the resource driver, the region lister,
 * and the published config and target schemas.
 */

import { Configured, type PluginDefinition, type PluginLogger } from "@flotilla/plugin-sdk";
import { AwsClients } from "./clients.js";
import { type AwsProviderConfig, awsConfig, awsTargetSchema } from "./config-schema.js";
import { resolveAwsCredentials } from "./credentials.js";
import { listAwsRegions } from "./regions.js";
import { createAwsResourceDriver } from "./resources/driver.js";
import { createEcsRunner } from "./runner.js";
import { AwsRuntime } from "./runtime.js";

/** The plugin's name and version as published in its registry. */
export const awsPluginInfo = { name: "aws", version: "0.1.0" } as const;

/** A plugin definition plus access to its runtime (for in-process tests and benches). */
export interface AwsPlugin {
  /** What `serve()` takes. */
  definition: PluginDefinition<AwsProviderConfig>;
  /** The configured runtime; throws FailedPreconditionError before Configure. */
  runtime(): AwsRuntime;
  /** Stops polling and closes the SDK clients. */
  dispose(): Promise<void>;
}

/** Builds the AWS plugin. Nothing touches AWS until Configure is called. */
export function createAwsPlugin(): AwsPlugin {
  const current = new Configured<AwsRuntime>(awsPluginInfo.name);
  const runtime = (): AwsRuntime => current.get();
  let logger: PluginLogger | undefined;

  const definition: PluginDefinition<AwsProviderConfig> = {
    name: awsPluginInfo.name,
    version: awsPluginInfo.version,
    config: awsConfig,
    targetSchema: awsTargetSchema,
    provider: {
      async configure(request, context) {
        logger = context.logger;
        const { config } = context;
        const credentials = await resolveAwsCredentials(request.credentials);
        const clients = new AwsClients({
          region: config.region,
          maxAttempts: config.maxAttempts,
          roleSessionName: config.roleSessionName,
          ...(config.endpoint ? { endpoint: config.endpoint } : {}),
          ...(credentials ? { credentials } : {}),
          ...(config.profile ? { profile: config.profile } : {}),
          ...(config.roleArn ? { roleArn: config.roleArn } : {}),
          ...(config.externalId ? { externalId: config.externalId } : {}),
        });
        await current.set(new AwsRuntime(config, clients, (message) => logger?.warn(message)))?.dispose();
        return {};
      },
      describe() {
        return {
          name: awsPluginInfo.name,
          version: awsPluginInfo.version,
          capabilities: ["jobs:ecs", "logs:cloudwatch", "resources:ecs.service", "resources:logs.log-group", "regions"],
        };
      },
    },
    runner: createEcsRunner(runtime),
    resourceDriver: createAwsResourceDriver(runtime),
    regionLister: {
      async listRegions() {
        const rt = runtime();
        return { regions: await listAwsRegions(await rt.clients.ec2()) };
      },
    },
  };
  return {
    definition,
    runtime,
    dispose: async () => {
      await current.clear()?.dispose();
    },
  };
}
