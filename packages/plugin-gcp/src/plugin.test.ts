/**
 * The plugin definition around Configure: the SDK's typed config guards every
 * handler until a config was accepted, and a refused config starts nothing.
 */
import { create } from "@bufbuild/protobuf";
import { configureDirectly } from "@flotilla/plugin-sdk/testing";
import {
  FailedPreconditionError,
  InvalidArgumentError,
  JobHandleSchema,
  JobStatusRequestSchema,
} from "@flotilla/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { testContext } from "./fixtures/harness.js";
import { createGcpPlugin, type GcpPlugin } from "./plugin.js";

let plugin: GcpPlugin | undefined;
afterEach(async () => {
  await plugin?.dispose();
  plugin = undefined;
});

describe("gcp plugin before and around Configure", () => {
  it("answers a call before Configure with the SDK's 'not configured yet' naming the call to make", async () => {
    plugin = createGcpPlugin();
    const request = create(JobStatusRequestSchema, {
      handle: create(JobHandleSchema, { provider: "gcp", jobId: "x" }),
    });
    const attempt = plugin.definition.runner?.jobStatus?.(request, testContext());
    await expect(attempt).rejects.toThrow(FailedPreconditionError);
    await expect(plugin.definition.runner?.jobStatus?.(request, testContext())).rejects.toThrow(
      /the gcp plugin is not configured yet: call IaCProviderService\/Configure/,
    );
  });

  it("refuses a bad config before building anything: the plugin stays unconfigured", async () => {
    plugin = createGcpPlugin();
    await expect(
      configureDirectly(plugin.definition, {
        configJson: new TextEncoder().encode(
          '{"project":"my-project","region":"europe-west1","insecureEndpoint":true}',
        ),
      }),
    ).rejects.toThrow(InvalidArgumentError);
    expect(() => plugin?.runtime()).toThrow(/not configured yet/);
  });

  it("hands Configure the config with its defaults, which the runtime then holds", async () => {
    plugin = createGcpPlugin();
    const applied = await configureDirectly(plugin.definition, {
      configJson: new TextEncoder().encode('{"project":"my-project","region":"europe-west1","maxRetries":2}'),
    });
    expect(applied).toMatchObject({ maxRetries: 2, taskTimeoutSeconds: 600, deleteFinishedJobs: true });
    expect(plugin.runtime().config).toEqual(applied);
  });
});
