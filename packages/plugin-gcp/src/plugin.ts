/**
 * The GCP plugin's definition for `serve()`: the provider (Configure builds
 * the runtime), the Cloud Run job runner, the run.service resource driver and
 * drift detector, the region lister, and the
 * published config and target schemas.
 */
import { Configured, type PluginDefinition, type PluginLogger } from "@flotilla/plugin-sdk";
import { GcpClients } from "./clients.js";
import { type GcpProviderConfig, gcpConfig, gcpTargetSchema } from "./config-schema.js";
import { resolveGcpCredentials } from "./credentials.js";
import { parseGcpEndpoint } from "./endpoint.js";
import { listGcpRegions } from "./regions.js";
import {
  createGcpDriftDetector,
  createGcpResourceDriver,
  driftDetectingTypes,
  resourceTypeNames,
} from "./resources/driver.js";
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
  /** What `serve()` takes. */
  definition: PluginDefinition<GcpProviderConfig>;
  /** The configured runtime; throws FailedPreconditionError before Configure. */
  runtime(): GcpRuntime;
  /** Stops polling and closes the clients. */
  dispose(): Promise<void>;
}

/** Builds the GCP plugin. Nothing touches Google until Configure is called. */
export function createGcpPlugin(): GcpPlugin {
  const current = new Configured<GcpRuntime>(gcpPluginInfo.name);
  const runtime = (): GcpRuntime => current.get();
  let logger: PluginLogger | undefined;
  const definition: PluginDefinition<GcpProviderConfig> = {
    name: gcpPluginInfo.name,
    version: gcpPluginInfo.version,
    config: gcpConfig,
    targetSchema: gcpTargetSchema,
    provider: {
      async configure(request, context) {
        logger = context.logger;
        const { config } = context;
        const serviceAccountKey = await resolveGcpCredentials(request.credentials);
        const clients = new GcpClients({
          project: config.project,
          ...(config.endpoint ? { endpoint: parseGcpEndpoint(config.endpoint, config.insecureEndpoint) } : {}),
          ...(serviceAccountKey ? { serviceAccountKey } : {}),
          ...(config.universeDomain ? { universeDomain: config.universeDomain } : {}),
        });
        await current.set(new GcpRuntime(config, clients, (message) => logger?.warn(message)))?.dispose();
        return {};
      },
      describe() {
        return {
          name: gcpPluginInfo.name,
          version: gcpPluginInfo.version,
          capabilities: [
            "jobs:cloud-run",
            "logs:cloud-logging",
            ...resourceTypeNames.map((type) => `resources:${type}`),
            ...driftDetectingTypes.map((type) => `drift:${type}`),
            "regions",
          ],
        };
      },
    },
    runner: createCloudRunRunner(runtime),
    conformanceJobs: gcpConformanceJobs,
    resourceDriver: createGcpResourceDriver(runtime),
    driftDetector: createGcpDriftDetector(runtime),
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
      await current.clear()?.dispose();
    },
  };
}
