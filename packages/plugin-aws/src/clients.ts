/**
 * The AWS SDK clients the plugin uses, created on first use and cached per
 * region. The SDK packages are imported lazily (`await import(...)`) so a
 * plugin process that is only asked for its registry starts fast.
 *
 * Credentials: explicit static keys when given (tests, or keys resolved from
 * credential references); otherwise a named profile; otherwise the standard
 * AWS credential chain (environment, shared files, SSO, web identity, ECS and
 * EC2 metadata). A role to assume is layered on top of whichever of those
 * applies.
 */
import type { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import type { EC2Client } from "@aws-sdk/client-ec2";
import type { ECSClient, ECSClientConfig } from "@aws-sdk/client-ecs";

/** Static AWS keys, e.g. resolved from credential references. */
export interface StaticAwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

type CredentialsOption = NonNullable<ECSClientConfig["credentials"]>;

/** What the clients need to know; a subset of the provider config plus resolved keys. */
export interface AwsClientSettings {
  /** Default region for clients created without one. */
  region: string;
  /** Endpoint override for every service (tests, LocalStack). */
  endpoint?: string;
  /** Static credentials; when set, no credential chain runs. */
  credentials?: StaticAwsCredentials;
  /** Shared config profile. */
  profile?: string;
  /** Role to assume on top of the base credentials. */
  roleArn?: string;
  /** Session name for the assumed role. */
  roleSessionName?: string;
  /** External id for the assumed role. */
  externalId?: string;
  /** Attempts per call including the SDK's own retries. */
  maxAttempts: number;
}

/** Lazily created, per-region SDK clients sharing one credential provider. */
export class AwsClients {
  private readonly ecsClients = new Map<string, Promise<ECSClient>>();
  private readonly logsClients = new Map<string, Promise<CloudWatchLogsClient>>();
  private readonly ec2Clients = new Map<string, Promise<EC2Client>>();
  private credentialProvider: Promise<CredentialsOption | undefined> | undefined;

  constructor(private readonly settings: AwsClientSettings) {}

  /** The ECS client for a region (default: the configured one). */
  ecs(region = this.settings.region): Promise<ECSClient> {
    return cached(this.ecsClients, region, async () => {
      const { ECSClient } = await import("@aws-sdk/client-ecs");
      return new ECSClient(await this.clientConfig(region));
    });
  }

  /** The CloudWatch Logs client for a region. */
  logs(region = this.settings.region): Promise<CloudWatchLogsClient> {
    return cached(this.logsClients, region, async () => {
      const { CloudWatchLogsClient } = await import("@aws-sdk/client-cloudwatch-logs");
      // Some Logs operations prepend a host prefix to the endpoint; with an
      // endpoint override that would point at a host that does not exist.
      return new CloudWatchLogsClient({
        ...(await this.clientConfig(region)),
        disableHostPrefix: this.settings.endpoint !== undefined,
      });
    });
  }

  /** The EC2 client for a region (used for DescribeRegions). */
  ec2(region = this.settings.region): Promise<EC2Client> {
    return cached(this.ec2Clients, region, async () => {
      const { EC2Client } = await import("@aws-sdk/client-ec2");
      return new EC2Client(await this.clientConfig(region));
    });
  }

  /** Closes every client's connections. */
  async destroy(): Promise<void> {
    for (const map of [this.ecsClients, this.logsClients, this.ec2Clients] as Map<
      string,
      Promise<{ destroy(): void }>
    >[]) {
      for (const client of map.values()) (await client.catch(() => undefined))?.destroy();
      map.clear();
    }
  }

  private async clientConfig(region: string) {
    const credentials = await this.credentials();
    return {
      region,
      maxAttempts: this.settings.maxAttempts,
      // Bounded waits: a hung connection must not hang a job's status forever.
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 60_000 },
      ...(this.settings.endpoint ? { endpoint: this.settings.endpoint } : {}),
      ...(credentials ? { credentials } : {}),
      ...(this.settings.profile && !credentials ? { profile: this.settings.profile } : {}),
    };
  }

  private credentials(): Promise<CredentialsOption | undefined> {
    this.credentialProvider ??= (async () => {
      const { credentials, roleArn, profile } = this.settings;
      if (!roleArn) return credentials;
      const { fromIni, fromTemporaryCredentials } = await import("@aws-sdk/credential-providers");
      return fromTemporaryCredentials({
        params: {
          RoleArn: roleArn,
          RoleSessionName: this.settings.roleSessionName ?? "flotilla",
          ...(this.settings.externalId ? { ExternalId: this.settings.externalId } : {}),
        },
        ...(credentials
          ? { masterCredentials: credentials }
          : profile
            ? { masterCredentials: fromIni({ profile }) }
            : {}),
        clientConfig: {
          region: this.settings.region,
          ...(this.settings.endpoint ? { endpoint: this.settings.endpoint } : {}),
        },
      });
    })();
    return this.credentialProvider;
  }
}

function cached<T>(map: Map<string, Promise<T>>, key: string, create: () => Promise<T>): Promise<T> {
  let client = map.get(key);
  if (!client) {
    client = create();
    map.set(key, client);
    client.catch(() => map.delete(key));
  }
  return client;
}
