import type { IaCProviderRunnerService } from "@flotilla/protocol";
import { describe, expectTypeOf, it } from "vitest";
import { type ConfigOf, Default, defineConfig, defineJobTarget, Sensitive, Type } from "./config.js";
import type { HandlerContext, PluginDefinition, ServiceImpl } from "./definition.js";
import type { serve } from "./serve.js";

const schema = Type.Object(
  {
    region: Type.String(),
    retries: Default(Type.Integer({ minimum: 1 }), 3),
    mode: Default(Type.Enum(["fast", "safe"]), "safe"),
    profile: Type.Optional(Type.String()),
    apiToken: Sensitive(Type.String()),
    proxy: Type.Optional(Type.Object({ url: Type.String(), password: Type.Optional(Sensitive(Type.String())) })),
    tags: Default(Type.Array(Type.String()), []),
  },
  { additionalProperties: false },
);
const config = defineConfig({ what: "demo provider config", schema });
type Config = ConfigOf<typeof schema>;

describe("ConfigOf", () => {
  it("makes a member with a Default required, leaves Optional ones optional, keeps the rest", () => {
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
});

describe("Default and Sensitive", () => {
  it("type-check the default against the schema", () => {
    // @ts-expect-error: a string is no default for an integer
    Default(Type.Integer(), "3");
    // @ts-expect-error: "slow" is not one of the enum's values
    Default(Type.Enum(["fast", "safe"]), "slow");
  });

  it("publish their annotations in the schema's type", () => {
    expectTypeOf(Sensitive(Type.String())).toExtend<{ writeOnly: true; type: "string" }>();
    expectTypeOf(Default(Type.Integer(), 3)).toExtend<{ default: 3; "~optional": true }>();
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
        provider: {},
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
      schema: Type.Object({ cluster: Type.Optional(Type.String()), assignPublicIp: Default(Type.Boolean(), false) }),
    });
    expectTypeOf(target.read(undefined)).toEqualTypeOf<{ assignPublicIp: boolean; cluster?: string }>();
  });

  it("refuses a schema naming a field the message does not have, or with another type", () => {
    defineJobTarget({
      plugin: "demo",
      kind: "local",
      schema: Type.Object({ shell: Type.Boolean() }),
    });
    // @ts-expect-error: LocalTarget has no `shel`
    defineJobTarget({ plugin: "demo", kind: "local", schema: Type.Object({ shel: Type.Boolean() }) });
    // @ts-expect-error: LocalTarget.shell is a boolean
    defineJobTarget({ plugin: "demo", kind: "local", schema: Type.Object({ shell: Type.String() }) });
  });

  it("takes any object schema for a custom JSON target", () => {
    const custom = defineJobTarget({
      plugin: "demo",
      kind: "customJson",
      schema: Type.Object({ queue: Type.String() }),
    });
    expectTypeOf(custom.read(undefined)).toEqualTypeOf<{ queue: string }>();
  });
});
