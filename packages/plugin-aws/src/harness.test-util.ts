/**
 * Test harness (not shipped: matched by the package's `!dist/**\/*.test.*`):
 * starts the AWS fake and an in-process AWS plugin configured against it
 * with the real SDK clients, explicit static credentials and the endpoint
 * override, and gives typed access to its services.
 */
import { create } from "@bufbuild/protobuf";
import { type FakeAws, startFakeAws } from "@flotilla/fakes";
import type { HandlerContext } from "@flotilla/plugin-sdk";
import { ConfigureRequestSchema, CredentialReferenceSchema } from "@flotilla/protocol";
import { type AwsPlugin, createAwsPlugin } from "./plugin.js";

/** A running fake plus a plugin configured against it. */
export interface AwsHarness {
  fake: FakeAws;
  plugin: AwsPlugin;
  runner: NonNullable<AwsPlugin["definition"]["runner"]>;
  driver: NonNullable<AwsPlugin["definition"]["resourceDriver"]>;
  context: HandlerContext;
  /** The config the plugin was configured with. */
  config: Record<string, unknown>;
  close(): Promise<void>;
}

/** A handler context for direct calls. */
export function testContext(signal: AbortSignal = new AbortController().signal): HandlerContext {
  return { signal, deadline: undefined, metadata: {}, logger: { debug() {}, info() {}, warn() {}, error() {} } };
}

/** Credential references to the static test keys (resolved from this process's env). */
export function testCredentials() {
  process.env.FLOTILLA_TEST_AWS_ACCESS_KEY_ID = "AKIDFLOTILLATEST";
  process.env.FLOTILLA_TEST_AWS_SECRET_ACCESS_KEY = "flotilla-test-secret";
  return [
    create(CredentialReferenceSchema, { name: "access_key_id", reference: "env://FLOTILLA_TEST_AWS_ACCESS_KEY_ID" }),
    create(CredentialReferenceSchema, {
      name: "secret_access_key",
      reference: "env://FLOTILLA_TEST_AWS_SECRET_ACCESS_KEY",
    }),
  ];
}

/** Starts the fake and configures a plugin against it; `config` overrides the defaults. */
export async function startAwsHarness(config: Record<string, unknown> = {}): Promise<AwsHarness> {
  const fake = await startFakeAws({ clusters: ["default", "jobs"], region: "eu-west-1" });
  const plugin = createAwsPlugin();
  const fullConfig = {
    region: "eu-west-1",
    endpoint: fake.endpoint,
    subnets: ["subnet-0123456789abcdef0"],
    securityGroups: ["sg-0123456789abcdef0"],
    executionRoleArn: "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
    accountId: "123456789012",
    maxAttempts: 2,
    statusPollIntervalMs: 40,
    logPollIntervalMs: 20,
    ...config,
  };
  const context = testContext();
  await plugin.definition.provider.configure(
    create(ConfigureRequestSchema, {
      configJson: new TextEncoder().encode(JSON.stringify(fullConfig)),
      credentials: testCredentials(),
    }),
    context,
  );
  const { runner, resourceDriver } = plugin.definition;
  if (!runner || !resourceDriver) throw new Error("aws plugin lacks runner or resource driver");
  return {
    fake,
    plugin,
    runner,
    driver: resourceDriver,
    context,
    config: fullConfig,
    close: async () => {
      await plugin.dispose();
      await fake.close();
    },
  };
}

/** Collects every page of a server-streaming handler. */
export async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of stream) out.push(item);
  return out;
}
