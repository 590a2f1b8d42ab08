/**
 * The AWS plugin's definition for `serve()`: the provider (Configure builds
 * the runtime), the ECS job runner, the resource driver and drift detector, the region lister,
 * and the published config and target schemas.
 */

import { Configured, type PluginDefinition, type PluginLogger } from "@flotilla/plugin-sdk";
import { AwsClients } from "./clients.js";
import { type AwsProviderConfig, awsConfig, awsTargetSchema } from "./config-schema.js";
import { resolveAwsCredentials } from "./credentials.js";
import { listAwsRegions } from "./regions.js";
import { createAwsDriftDetector, createAwsResourceDriver, driftDetectingTypes } from "./resources/driver.js";
import { createEcsRunner } from "./runner.js";
import { AwsRuntime } from "./runtime.js";

/** The plugin's name and version as published in its registry. */
export const awsPluginInfo = { name: "aws", version: "0.1.0" } as const;

/**
 * The jobs `flotilla plugin test` runs on ECS, published in the registry: busybox from the ECR Public
 * Gallery (any task with outbound access pulls it, no registry credentials), placed by the configured
 * cluster, subnets and roles (an empty ECS target). The long one stops itself after 15 minutes if the
 * suite died before cancelling it, so a broken run leaves no task billing for long.
 */
export const awsConformanceJobs: NonNullable<PluginDefinition["conformanceJobs"]> = {
  quick: {
    name: "conformance-quick",
    image: "public.ecr.aws/docker/library/busybox:1.37",
    command: ["sh", "-c", "echo one; echo two; echo three"],
    target: { kind: { case: "awsEcs", value: {} } },
  },
  longRunning: {
    name: "conformance-long",
    image: "public.ecr.aws/docker/library/busybox:1.37",
    command: ["sh", "-c", "echo started; sleep 600"],
    timeout: { seconds: 900n },
    target: { kind: { case: "awsEcs", value: {} } },
  },
};

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
          capabilities: [
            "jobs:ecs",
            "logs:cloudwatch",
            "resources:ecs.service",
            "resources:logs.log-group",
            ...driftDetectingTypes.map((type) => `drift:${type}`),
            "regions",
          ],
        };
      },
    },
    runner: createEcsRunner(runtime),
    conformanceJobs: awsConformanceJobs,
    resourceDriver: createAwsResourceDriver(runtime),
    driftDetector: createAwsDriftDetector(runtime),
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
