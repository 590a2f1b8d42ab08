import { create } from "@bufbuild/protobuf";
import { configureDirectly } from "@flotilla/plugin-sdk/testing";
import {
  DescribeRequestSchema,
  FailedPreconditionError,
  InvalidArgumentError,
  ListRegionsRequestSchema,
} from "@flotilla/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { testContext, testCredentials } from "./fixtures/harness.js";
import { createAwsPlugin } from "./plugin.js";

const plugin = createAwsPlugin();
afterEach(async () => {
  await plugin.dispose();
});

describe("the aws plugin definition", () => {
  it("publishes its name, version, schemas and every optional service it implements", () => {
    const { definition } = plugin;
    expect(definition).toMatchObject({ name: "aws", version: "0.1.0" });
    expect(definition.config?.schema.required).toEqual(["region"]);
    expect(Object.keys((definition.targetSchema?.properties ?? {}) as object)).toEqual(["awsEcs"]);
    const optionalServices = ["runner", "resourceDriver", "regionLister", "driftDetector"] as const;
    expect(optionalServices.filter((service) => definition[service] !== undefined)).toEqual([
      "runner",
      "resourceDriver",
      "regionLister",
      "driftDetector",
    ]);
  });

  it("describes itself with its capabilities", async () => {
    const out = await plugin.definition.provider?.describe?.(create(DescribeRequestSchema), testContext());
    expect(out?.capabilities).toEqual(expect.arrayContaining(["resources:ecs.service", "drift:ecs.service"]));
  });

  it("rejects a bad config in Configure naming the key, and stays unconfigured", async () => {
    const configure = configureDirectly(plugin.definition, {
      configJson: new TextEncoder().encode('{"region":"eu-west-1","cluster":""}'),
    });
    await expect(configure).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(configure).rejects.toThrow(/cluster: must not be empty/);
    await expect(
      plugin.definition.regionLister?.listRegions(create(ListRegionsRequestSchema), testContext()),
    ).rejects.toBeInstanceOf(FailedPreconditionError);
  });

  it("is configured by a valid config with credential references", async () => {
    await configureDirectly(plugin.definition, {
      configJson: new TextEncoder().encode('{"region":"eu-west-1"}'),
      credentials: testCredentials(),
    });
    expect(plugin.runtime().config.region).toBe("eu-west-1");
  });
});
