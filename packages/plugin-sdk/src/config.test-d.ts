import type { IaCProviderRunnerService } from "@flotilla/protocol";
import { describe, expectTypeOf, it } from "vitest";
import { type ConfigOf, defineConfig, defineJobTarget, sensitive } from "./config.js";
import type { HandlerContext, PluginDefinition, ServiceImpl } from "./definition.js";
import type { serve } from "./serve.js";

const config = defineConfig({
  what: "demo provider config",
  schema: {
    type: "object",
    additionalProperties: false,
    required: ["region", "apiToken"],
    properties: {
      region: { type: "string" },
      retries: { type: "integer", minimum: 1, default: 3 },
      mode: { type: "string", enum: ["fast", "safe"], default: "safe" },
      profile: { type: "string" },
      apiToken: sensitive({ type: "string" }),
      proxy: {
        type: "object",
        required: ["url"],
        properties: { url: { type: "string" }, password: sensitive({ type: "string" }) },
      },
      tags: { type: "array", items: { type: "string" }, default: [] },
    },
  },
});
type Config = ConfigOf<typeof config.schema>;

describe("ConfigOf", () => {
  it("has the required members and those with a default, and the others as optional", () => {
    expectTypeOf<Config>().toEqualTypeOf<{
      region: string;
      retries: number;
      mode: "fast" | "safe";
      apiToken: string;
      tags: string[];
      profile?: string;
      proxy?: { url: string; password?: string };
    }>();
  });

  it("is what parse returns, and what the declaration hands to handlers", () => {
    expectTypeOf(config.parse("{}")).toEqualTypeOf<Config>();
    expectTypeOf(config.defaults()).toEqualTypeOf<Config>();
    expectTypeOf(config).toExtend<PluginDefinition<Config>["config"]>();
  });

  it("gives the rules the config as written, before defaults", () => {
    defineConfig({
      what: "x",
      schema: { type: "object", properties: { n: { type: "integer", default: 1 } } },
      rules(given) {
        expectTypeOf(given).toEqualTypeOf<{ n?: number }>();
        return [];
      },
    });
  });
});

describe("defaults and sensitive", () => {
  it("refuse a default that is not a value of its schema", () => {
    defineConfig({ what: "x", schema: { type: "object", properties: { n: { type: "integer", default: 3 } } } });
    defineConfig({
      what: "x",
      // @ts-expect-error: a string is no default for an integer
      schema: { type: "object", properties: { n: { type: "integer", default: "3" } } },
    });
    defineConfig({
      what: "x",
      // @ts-expect-error: "slow" is not one of the enum's values
      schema: { type: "object", properties: { m: { type: "string", enum: ["fast", "safe"], default: "slow" } } },
    });
  });

  it("sensitive keeps the node's type and adds writeOnly", () => {
    expectTypeOf(sensitive({ type: "string", minLength: 8 })).toEqualTypeOf<
      { readonly type: "string"; readonly minLength: 8 } & { readonly writeOnly: true }
    >();
  });
});

describe("context.config", () => {
  it("is the declared config's type in every handler", () => {
    const runner: Pick<ServiceImpl<typeof IaCProviderRunnerService, Config>, "runJob"> = {
      runJob(_request, context) {
        expectTypeOf(context.config.retries).toEqualTypeOf<number>();
        expectTypeOf(context.config.profile).toEqualTypeOf<string | undefined>();
        // @ts-expect-error: the config has no `regoin`
        context.config.regoin;
        return {};
      },
    };
    expectTypeOf(runner).not.toBeAny();
  });

  it("is inferred by serve() from the declaration", () => {
    const start = (run: typeof serve) =>
      run({
        name: "demo",
        version: "1.0.0",
        config,
        regionLister: {
          listRegions(_request, context) {
            expectTypeOf(context).toEqualTypeOf<HandlerContext<Config>>();
            return { regions: [{ id: context.config.region }] };
          },
        },
      });
    expectTypeOf(start).returns.toEqualTypeOf<Promise<void>>();
  });
});

describe("defineJobTarget", () => {
  it("types a target as its schema, checked against the protobuf message", () => {
    const target = defineJobTarget({
      plugin: "demo",
      kind: "awsEcs",
      schema: {
        type: "object",
        properties: { cluster: { type: "string" }, assignPublicIp: { type: "boolean", default: false } },
      },
    });
    expectTypeOf(target.read(undefined)).toEqualTypeOf<{ assignPublicIp: boolean; cluster?: string }>();
  });

  it("refuses a schema naming a field the message does not have, or with another type", () => {
    defineJobTarget({
      plugin: "demo",
      kind: "local",
      schema: { type: "object", properties: { shell: { type: "boolean" } } },
    });
    // @ts-expect-error: LocalTarget has no `shel`
    defineJobTarget({
      plugin: "demo",
      kind: "local",
      schema: { type: "object", properties: { shel: { type: "boolean" } } },
    });
    // @ts-expect-error: LocalTarget.shell is a boolean
    defineJobTarget({
      plugin: "demo",
      kind: "local",
      schema: { type: "object", properties: { shell: { type: "string" } } },
    });
  });

  it("takes any object schema for a custom JSON target", () => {
    const custom = defineJobTarget({
      plugin: "demo",
      kind: "customJson",
      schema: { type: "object", required: ["queue"], properties: { queue: { type: "string" } } },
    });
    expectTypeOf(custom.read(undefined)).toEqualTypeOf<{ queue: string }>();
  });
});
