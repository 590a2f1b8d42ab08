/**
 * The GCP plugin's definition for `serve()`: the provider (Configure builds
 * the runtime), the Cloud Run job runner, the region lister, and the
 * published config and target schemas.
 */
import type { PluginDefinition, PluginLogger } from "@flotilla/plugin-sdk";
import { FailedPreconditionError } from "@flotilla/protocol";
import { GcpClients } from "./clients.js";
import { gcpConfigSchema, gcpTargetSchema, parseGcpConfig } from "./config-schema.js";
import { resolveGcpCredentials } from "./credentials.js";
import { listGcpRegions } from "./regions.js";
import { createCloudRunRunner } from "./runner.js";
import { GcpRuntime } from "./runtime.js";

/** The plugin's name and version as published in its registry. */
export const gcpPluginInfo = { name: "gcp", version: "0.1.0" } as const;

/**
 * The jobs `flotilla plugin test` runs on Cloud Run: a public busybox image (Docker Hub's library image,
 * which Cloud Run pulls without credentials) printing three lines, and one sleeping until cancelled,
 * with a task timeout so a forgotten one ends by itself.
 */
export const gcpConformanceJobs: NonNullable<PluginDefinition["conformanceJobs"]> = {
  quick: { name: "conformance-quick", image: "busybox:1.37", command: ["sh", "-c", "echo one; echo two; echo three"] },
  longRunning: {
    name: "conformance-long",
    image: "busybox:1.37",
    command: ["sh", "-c", "echo started; sleep 600"],
    timeout: { seconds: 900n },
  },
};

/** A plugin definition plus access to its runtime (for in-process tests). */
export interface GcpPlugin {
  definition: PluginDefinition;
  /** The configured runtime; throws FailedPreconditionError before Configure. */
  runtime(): GcpRuntime;
  /** Stops polling and closes the clients. */
  dispose(): Promise<void>;
}

/** Builds the GCP plugin. Nothing touches Google until Configure is called. */
export function createGcpPlugin(): GcpPlugin {
  let current: GcpRuntime | undefined;
  const runtime = (): GcpRuntime => {
    if (!current)
      throw new FailedPreconditionError(
        "the gcp provider is not configured yet: the host must call Configure with the provider config first",
      );
    return current;
  };
  let logger: PluginLogger | undefined;
  const definition: PluginDefinition = {
    name: gcpPluginInfo.name,
    version: gcpPluginInfo.version,
    configSchema: gcpConfigSchema,
    targetSchema: gcpTargetSchema,
    provider: {
      async configure(request, context) {
        logger = context.logger;
        const config = parseGcpConfig(request.configJson);
        const serviceAccountKey = await resolveGcpCredentials(request.credentials);
        const clients = new GcpClients({
          project: config.project,
          ...(config.endpoint ? { endpoint: config.endpoint } : {}),
          ...(serviceAccountKey ? { serviceAccountKey } : {}),
          ...(config.universeDomain ? { universeDomain: config.universeDomain } : {}),
        });
        const previous = current;
        current = new GcpRuntime(config, clients, (message) => logger?.warn(message));
        await previous?.dispose();
        return {};
      },
      describe() {
        return {
          name: gcpPluginInfo.name,
          version: gcpPluginInfo.version,
          capabilities: ["jobs:cloud-run", "logs:cloud-logging", "regions"],
        };
      },
    },
    runner: createCloudRunRunner(runtime),
    conformanceJobs: gcpConformanceJobs,
    regionLister: {
      async listRegions() {
        return { regions: await listGcpRegions(runtime().clients) };
      },
    },
  };
  return {
    definition,
    runtime,
    dispose: async () => {
      await current?.dispose();
      current = undefined;
    },
  };
}
