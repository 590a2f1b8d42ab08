/**
 * What `host.provider(name)` returns: the provider's required service, and
 * one accessor per optional service that is `undefined` when the plugin's
 * ContractRegistry did not list it — never a client that fails on its first call.
 */

import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import {
  type ContractRegistry,
  type DriftDetectorService,
  FailedPreconditionError,
  type IaCProviderRunnerService,
  IaCProviderService,
  type OptionalServiceKey,
  optionalServiceByKey,
  type RegionListerService,
  type ResourceDriverService,
} from "@flotilla/protocol";
import type { PluginTransport } from "../rpc/transport.js";
import { createServiceClient, type ServiceClient } from "./service-client.js";

/** Client of IaCProviderRunnerService (RunJob, JobStatus, BatchJobStatus, JobLogs, CancelJob). */
export type RunnerClient = ServiceClient<typeof IaCProviderRunnerService>;
/** Client of ResourceDriverService. */
export type ResourceDriverClient = ServiceClient<typeof ResourceDriverService>;
/** Client of RegionListerService. */
export type RegionListerClient = ServiceClient<typeof RegionListerService>;
/** Client of DriftDetectorService. */
export type DriftDetectorClient = ServiceClient<typeof DriftDetectorService>;
/** Client of the required IaCProviderService (Configure, Describe). */
export type ProviderServiceClient = ServiceClient<typeof IaCProviderService>;

/**
 * What a ProviderClient reads and calls through: a started plugin's name, the
 * registry read at its last start, and its transport. The plugin manager's
 * ManagedPlugin is one; this module depends on the shape, not on the plugin
 * manager, so the plugin manager can depend on it without a cycle.
 */
export interface ProviderConnection extends PluginTransport {
  /** The plugin's name, as configured. */
  readonly name: string;
  /** The ContractRegistry read at the plugin's last start; undefined before its first. */
  readonly registry: ContractRegistry | undefined;
}

/** A provider plugin's services, as its registry advertises them. */
export class ProviderClient {
  private readonly cache = new Map<string, unknown>();

  constructor(private readonly plugin: ProviderConnection) {}

  /** The plugin's name. */
  get name(): string {
    return this.plugin.name;
  }

  /** The registry read at the plugin's last start. */
  get registry(): ContractRegistry {
    const registry = this.plugin.registry;
    if (!registry)
      throw new FailedPreconditionError(`plugin "${this.plugin.name}" has not started yet; it has no registry`);
    return registry;
  }

  /** The required provider service: Configure and Describe. */
  provider(): ProviderServiceClient {
    return this.client(IaCProviderService);
  }

  /** IaCProviderRunnerService, or undefined when the plugin does not run jobs. */
  runner(): RunnerClient | undefined {
    return this.optional("runner");
  }

  /** ResourceDriverService, or undefined when the plugin does not manage resources. */
  resourceDriver(): ResourceDriverClient | undefined {
    return this.optional("resourceDriver");
  }

  /** RegionListerService, or undefined when the plugin does not list regions. */
  regionLister(): RegionListerClient | undefined {
    return this.optional("regionLister");
  }

  /** DriftDetectorService, or undefined when the plugin does not detect drift. */
  driftDetector(): DriftDetectorClient | undefined {
    return this.optional("driftDetector");
  }

  private optional<K extends OptionalServiceKey>(key: K): ServiceClient<(typeof optionalServiceByKey)[K]> | undefined {
    const service = optionalServiceByKey[key];
    return this.registry.services.includes(service.typeName) ? this.client(service) : undefined;
  }

  private client<S extends GenService<GenServiceMethods>>(service: S): ServiceClient<S> {
    let client = this.cache.get(service.typeName) as ServiceClient<S> | undefined;
    if (!client) {
      client = createServiceClient(service, this.plugin);
      this.cache.set(service.typeName, client);
    }
    return client;
  }
}
