/**
 * The Google Cloud clients the plugin uses, created on first use and shared:
 * Cloud Run Admin API v2 (Jobs, Executions, Tasks, Services; the Jobs client also
 * serves the Locations mixin) and Cloud Logging. The client packages are
 * imported lazily (`await import(...)`), so a plugin process that is only asked
 * for its registry never loads them.
 *
 * Transport: gRPC, the clients' default. Credentials: Application Default
 * Credentials unless a service-account key is given; with an `insecure`
 * endpoint (a local fake or emulator) the channel is plain text and google-gax
 * uses those channel credentials instead of Google auth, so no token is
 * fetched or sent.
 */
import type { Logging } from "@google-cloud/logging";
import type { ExecutionsClient, JobsClient, ServicesClient, TasksClient } from "@google-cloud/run";
import type { ClientOptions } from "google-gax";
import type { GcpEndpoint } from "./endpoint.js";

/** A service-account key (the JSON key file's content), e.g. resolved from a credential reference. */
export interface GcpServiceAccountKey {
  client_email: string;
  private_key: string;
  [field: string]: unknown;
}

/** What the clients need to know; a subset of the provider config plus resolved credentials. */
export interface GcpClientSettings {
  /** The project id every call is made in. */
  project: string;
  /** Where to reach the APIs instead of Google's endpoints (tests, emulators, Private Service Connect). */
  endpoint?: GcpEndpoint;
  /** A service-account key; without it Application Default Credentials apply. */
  serviceAccountKey?: GcpServiceAccountKey;
  /**
   * The universe domain (default "googleapis.com"). Always passed to the
   * clients: left unset, google-gax asks the auth library for it, which runs
   * the credential search (and may probe the metadata server) before the
   * first call.
   */
  universeDomain?: string;
}

/** Lazily created Google Cloud clients sharing one set of options. */
export class GcpClients {
  private jobsClient: Promise<JobsClient> | undefined;
  private executionsClient: Promise<ExecutionsClient> | undefined;
  private tasksClient: Promise<TasksClient> | undefined;
  private servicesClient: Promise<ServicesClient> | undefined;
  private loggingClient: Promise<Logging> | undefined;

  constructor(private readonly settings: GcpClientSettings) {}

  /** The project the clients work in. */
  get project(): string {
    return this.settings.project;
  }

  /** The Cloud Run Jobs client (also ListLocations). */
  jobs(): Promise<JobsClient> {
    this.jobsClient ??= this.create(async (options) => new (await import("@google-cloud/run")).JobsClient(options));
    return this.jobsClient;
  }

  /** The Cloud Run Executions client. */
  executions(): Promise<ExecutionsClient> {
    this.executionsClient ??= this.create(
      async (options) => new (await import("@google-cloud/run")).ExecutionsClient(options),
    );
    return this.executionsClient;
  }

  /** The Cloud Run Tasks client. */
  tasks(): Promise<TasksClient> {
    this.tasksClient ??= this.create(async (options) => new (await import("@google-cloud/run")).TasksClient(options));
    return this.tasksClient;
  }

  /** The Cloud Run Services client (the run.service resource type). */
  services(): Promise<ServicesClient> {
    this.servicesClient ??= this.create(
      async (options) => new (await import("@google-cloud/run")).ServicesClient(options),
    );
    return this.servicesClient;
  }

  /** The Cloud Logging client. */
  logging(): Promise<Logging> {
    this.loggingClient ??= this.create(async (options) => new (await import("@google-cloud/logging")).Logging(options));
    return this.loggingClient;
  }

  /** Closes the clients' channels. */
  async close(): Promise<void> {
    const created = [this.jobsClient, this.executionsClient, this.tasksClient, this.servicesClient];
    const logging = this.loggingClient;
    this.jobsClient = this.executionsClient = this.tasksClient = this.servicesClient = this.loggingClient = undefined;
    for (const client of created) await (await client?.catch(() => undefined))?.close();
    // Logging has no close of its own; its LoggingServiceV2 client holds the channel (typed as the class, set to an instance).
    const service = (await logging?.catch(() => undefined))?.loggingService as unknown as
      | { close(): Promise<void> }
      | undefined;
    await service?.close();
  }

  private create<T>(make: (options: ClientOptions) => Promise<T>): Promise<T> {
    const client = (async () => make(await this.clientOptions()))();
    client.catch(() => undefined);
    return client;
  }

  /** google-gax client options: project, universe domain, endpoint, credentials. */
  private async clientOptions(): Promise<ClientOptions> {
    const { endpoint, serviceAccountKey, project } = this.settings;
    const options: ClientOptions = {
      projectId: project,
      universeDomain: this.settings.universeDomain ?? "googleapis.com",
    };
    if (endpoint) {
      options.apiEndpoint = endpoint.host;
      options.port = endpoint.port;
      if (endpoint.insecure) options.sslCreds = (await import("google-gax")).grpc.credentials.createInsecure();
    }
    if (serviceAccountKey && !endpoint?.insecure)
      options.credentials = serviceAccountKey as ClientOptions["credentials"];
    return options;
  }
}
