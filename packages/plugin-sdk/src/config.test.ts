import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { create } from "@bufbuild/protobuf";
import {
  ContractRegistryService,
  checkAgainstSchema,
  FailedPreconditionError,
  IaCProviderService,
  InvalidArgumentError,
  JobTargetSchema,
  RegionListerService,
  type SchemaNode,
  sensitiveKeys,
} from "@flotilla/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { defineConfig, defineJobTarget, sensitive } from "./config.js";
import type { PluginDefinition, PluginLogger } from "./definition.js";
import { type InProcessPlugin, servePluginInProcess } from "./testing/in-process.js";

const SECRET = "tok-3f9a8c77e1";

const schema = {
  title: "Demo provider configuration",
  type: "object",
  additionalProperties: false,
  required: ["region"],
  properties: {
    region: { type: "string", pattern: "^[a-z]+-[0-9]$", description: "where to run, e.g. eu-1" },
    retries: { type: "integer", minimum: 1, default: 3 },
    apiToken: sensitive({ type: "string", minLength: 8 }),
    primary: { type: "string" },
    secondary: { type: "string" },
  },
} as const;
const demoConfig = defineConfig({
  what: "demo provider config",
  schema,
  rules: (given) =>
    given.secondary !== undefined && given.primary === undefined
      ? [{ key: "primary", reason: "is required when secondary is set" }]
      : [],
});

describe("defineConfig: parse", () => {
  it("fills in defaults and keeps what was given", () => {
    expect(demoConfig.parse('{"region":"eu-1"}')).toEqual({ region: "eu-1", retries: 3 });
    expect(demoConfig.parse(new TextEncoder().encode('{"region":"eu-1","retries":5}'))).toEqual({
      region: "eu-1",
      retries: 5,
    });
  });

  it("names every bad key, never a value, and runs the rules only on a config the schema accepts", () => {
    const bad = () => demoConfig.parse(`{"retries":0,"apiToken":"short","colour":"${SECRET}"}`);
    expect(bad).toThrow(InvalidArgumentError);
    expect(bad).toThrow(
      "demo provider config is invalid: region: is required: where to run, e.g. eu-1; retries: must be >= 1; " +
        "apiToken: must have at least 8 characters; colour: is not a known key; known keys are: region, retries, apiToken, primary, secondary",
    );
    expect(() => demoConfig.parse('{"region":"eu-1","secondary":"b"}')).toThrow(
      "demo provider config is invalid: primary: is required when secondary is set",
    );
  });

  it("says where JSON breaks, when it can, without quoting the text", () => {
    const unquoted = `{"apiToken": ${SECRET}}`;
    // JSON.parse's own message shows the text around the error: here, most of the token.
    expect(() => JSON.parse(unquoted)).toThrow(SECRET.slice(0, 8));
    expect(() => demoConfig.parse(unquoted)).toThrow(
      new InvalidArgumentError("demo provider config is not valid JSON; send a JSON object, e.g. {}"),
    );
    expect(() => demoConfig.parse(`{"apiToken":"${SECRET}`)).toThrow(
      "demo provider config is not valid JSON at line 1 column 28 (it ends too early); send a JSON object, e.g. {}",
    );
  });

  it("reads an empty config as {}, so a config without required keys has defaults()", () => {
    const optional = defineConfig({
      what: "x",
      schema: { type: "object", properties: { n: { type: "integer", default: 7 } } },
    });
    expect(optional.defaults()).toEqual({ n: 7 });
    expect(() => demoConfig.defaults()).toThrow(/region: is required/);
  });
});

/** A logger keeping every record, as the host would receive it. */
function recordingLogger(): PluginLogger & { records: { message: string; fields?: Record<string, unknown> }[] } {
  const records: { message: string; fields?: Record<string, unknown> }[] = [];
  const log = (message: string, fields?: Record<string, unknown>) => {
    records.push({ message, ...(fields ? { fields } : {}) });
  };
  return { records, debug: log, info: log, warn: log, error: log };
}

describe("a plugin with a declared config, served", () => {
  let plugin: InProcessPlugin | undefined;
  afterEach(async () => {
    await plugin?.close();
    plugin = undefined;
  });

  function demoPlugin(extra: Partial<PluginDefinition<ReturnType<typeof demoConfig.parse>>> = {}) {
    const configuredWith: unknown[] = [];
    const definition: PluginDefinition<ReturnType<typeof demoConfig.parse>> = {
      name: "demo",
      version: "1.0.0",
      config: demoConfig,
      provider: {
        configure(_request, context) {
          configuredWith.push(context.config);
          if (context.config.region === "no-1") throw new InvalidArgumentError("region no-1 is closed");
          return {};
        },
      },
      regionLister: {
        listRegions(_request, context) {
          const { region, retries, apiToken } = context.config;
          context.logger.info("listing regions", { config: context.config, note: `token ${apiToken}` });
          if (retries === 9) throw new Error(`the API refused token ${apiToken}`);
          return { regions: [{ id: region, displayName: `${retries} retries`, available: true }] };
        },
      },
      ...extra,
    };
    return { definition, configuredWith };
  }

  const configure = (p: InProcessPlugin, config: unknown) =>
    p.client(IaCProviderService).unary("configure", { configJson: new TextEncoder().encode(JSON.stringify(config)) });

  it("refuses calls that need the config before Configure, with FailedPrecondition saying what to do", async () => {
    plugin = await servePluginInProcess(demoPlugin().definition);
    const regions = plugin.client(RegionListerService);
    const early = regions.unary("listRegions", {});
    await expect(early).rejects.toBeInstanceOf(FailedPreconditionError);
    await expect(early).rejects.toThrow(
      /the demo plugin is not configured yet: call IaCProviderService\/Configure with its provider config first/,
    );
    await configure(plugin, { region: "eu-1" });
    expect((await regions.unary("listRegions", {})).regions[0]).toMatchObject({ id: "eu-1", displayName: "3 retries" });
  });

  it("hands configure the checked config, and keeps the previous one when a later Configure fails", async () => {
    const { definition, configuredWith } = demoPlugin();
    plugin = await servePluginInProcess(definition);
    await configure(plugin, { region: "eu-1", retries: 2 });
    expect(configuredWith).toEqual([{ region: "eu-1", retries: 2 }]);
    // Refused by the schema: the author's configure is not even called.
    await expect(configure(plugin, { region: "EU" })).rejects.toThrow(
      /region: a string of 2 characters does not match/,
    );
    // Refused by the author's configure.
    await expect(configure(plugin, { region: "no-1" })).rejects.toThrow(/region no-1 is closed/);
    expect(configuredWith).toHaveLength(2);
    const { regions } = await plugin.client(RegionListerService).unary("listRegions", {});
    expect(regions[0]?.id).toBe("eu-1");
  });

  it("lets a plugin that works unconfigured see its defaults before Configure", async () => {
    const unconfigured = defineConfig({
      what: "x",
      schema: { type: "object", properties: { greeting: { type: "string", default: "hello" } } },
      defaultsBeforeConfigure: true,
    });
    plugin = await servePluginInProcess({
      name: "greeter",
      version: "1.0.0",
      config: unconfigured,
      provider: {},
      regionLister: { listRegions: (_r, { config }) => ({ regions: [{ id: config.greeting }] }) },
    });
    expect((await plugin.client(RegionListerService).unary("listRegions", {})).regions[0]?.id).toBe("hello");
    await configure(plugin, { greeting: "hi" });
    expect((await plugin.client(RegionListerService).unary("listRegions", {})).regions[0]?.id).toBe("hi");
  });

  it("keeps a sensitive value out of the SDK's and the handlers' log records and out of errors", async () => {
    const logger = recordingLogger();
    plugin = await servePluginInProcess(demoPlugin().definition, { logger });
    await configure(plugin, { region: "eu-1", apiToken: SECRET });
    await plugin.client(RegionListerService).unary("listRegions", {});
    await configure(plugin, { region: "eu-1", apiToken: SECRET, retries: 9 });
    const failed = plugin.client(RegionListerService).unary("listRegions", {});
    await expect(failed).rejects.toThrow("the API refused token [redacted]");

    const written = JSON.stringify(logger.records);
    expect(written).not.toContain(SECRET);
    const configured = logger.records.find((r) => r.message === "provider configured");
    expect(configured?.fields).toEqual({ config: { region: "eu-1", retries: 3, apiToken: "[redacted]" } });
    const listing = logger.records.find((r) => r.message === "listing regions");
    expect(listing?.fields).toEqual({
      config: { region: "eu-1", retries: 3, apiToken: "[redacted]" },
      note: "token [redacted]",
    });
  });

  it("publishes in its registry the very schema Configure checks against", async () => {
    plugin = await servePluginInProcess(demoPlugin().definition);
    const { registry } = await plugin.client(ContractRegistryService).unary("getContractRegistry", {});
    const published = JSON.parse(registry?.configSchemaJson ?? "") as SchemaNode;
    expect(published).toEqual(schema);
    expect(sensitiveKeys(published)).toEqual(["apiToken"]);
    // What the host would say about a config, checking the published document, is what Configure says.
    const bad = { region: "x", retries: "2", extra: true };
    const hostSays = checkAgainstSchema(bad, published)
      .map((p) => `${p.key}: ${p.reason}`)
      .join("; ");
    await expect(configure(plugin, bad)).rejects.toThrow(`demo provider config is invalid: ${hostSays}`);
    expect(hostSays).toMatch(/^region: .*; retries: .*; extra: /);
  });

  it("refuses to start with both config and configSchema", async () => {
    await expect(servePluginInProcess(demoPlugin({ configSchema: { type: "object" } }).definition)).rejects.toThrow(
      /both `config` and `configSchema` are set/,
    );
  });

  it("is not configured before Configure when {} is no valid config, even with defaultsBeforeConfigure", async () => {
    const needsRegion = defineConfig({ what: "demo provider config", schema, defaultsBeforeConfigure: true });
    plugin = await servePluginInProcess({
      name: "demo",
      version: "1.0.0",
      config: needsRegion,
      provider: {},
      regionLister: { listRegions: (_r, { config }) => ({ regions: [{ id: config.region }] }) },
    });
    await expect(plugin.client(RegionListerService).unary("listRegions", {})).rejects.toBeInstanceOf(
      FailedPreconditionError,
    );
  });
});

describe("defineJobTarget", () => {
  const local = defineJobTarget({
    plugin: "demo",
    kind: "local",
    schema: {
      type: "object",
      additionalProperties: false,
      properties: { shell: { type: "boolean", default: false } },
    },
    title: "Demo job target",
  });
  const ecs = defineJobTarget({
    plugin: "demo",
    kind: "awsEcs",
    schema: {
      type: "object",
      properties: {
        region: { type: "string", pattern: "^[a-z]+-[a-z]+-\\d$" },
        subnets: { type: "array", items: { type: "string", pattern: "^subnet-" } },
      },
    },
  });

  it("publishes the target as JobTarget in protobuf JSON form", () => {
    expect(JSON.parse(JSON.stringify(local.schema))).toEqual({
      $schema: "https://json-schema.org/draft/2020-12/schema",
      title: "Demo job target",
      type: "object",
      additionalProperties: false,
      properties: {
        local: {
          type: "object",
          additionalProperties: false,
          properties: { shell: { type: "boolean", default: false } },
        },
      },
    });
  });

  it("reads an unset target as {} with defaults, and a set one as its JSON form", () => {
    expect(local.read(undefined)).toEqual({ shell: false });
    expect(local.read(create(JobTargetSchema, {}))).toEqual({ shell: false });
    expect(local.read(create(JobTargetSchema, { kind: { case: "local", value: { shell: true } } }))).toEqual({
      shell: true,
    });
    // Fields left at their zero value are absent, as protobuf JSON leaves them out.
    const target = create(JobTargetSchema, { kind: { case: "awsEcs", value: { region: "", subnets: ["subnet-1"] } } });
    expect(ecs.read(target)).toEqual({ subnets: ["subnet-1"] });
  });

  it("names the target kinds and the bad members", () => {
    const other = create(JobTargetSchema, { kind: { case: "gcpCloudRun", value: {} } });
    expect(() => local.read(other)).toThrow(
      "JobSpec.target: the demo plugin runs jobs with target.local or no target, got target.gcp_cloud_run; run this job through the plugin that owns target.gcp_cloud_run",
    );
    const bad = create(JobTargetSchema, { kind: { case: "awsEcs", value: { region: "Ireland", subnets: ["s-1"] } } });
    expect(() => ecs.read(bad)).toThrow(
      /^JobSpec target is invalid: target.aws_ecs.region: a string of 7 characters does not match .*; target.aws_ecs.subnets\[0\]: /,
    );
  });

  it("reads a custom JSON target against its own schema", () => {
    const custom = defineJobTarget({
      plugin: "demo",
      kind: "customJson",
      schema: {
        type: "object",
        required: ["queue"],
        properties: { queue: { type: "string" }, priority: { type: "integer", default: 1 } },
      },
    });
    expect(custom.schema).toMatchObject({ type: "object", required: ["queue"] });
    const json = (text: string) => create(JobTargetSchema, { kind: { case: "customJson", value: Buffer.from(text) } });
    expect(custom.read(json('{"queue":"q"}'))).toEqual({ queue: "q", priority: 1 });
    expect(() => custom.read(json("{}"))).toThrow("JobSpec target is invalid: target.custom_json.queue: is required");
    expect(() => custom.read(json("{queue"))).toThrow(/^target.custom_json is not valid JSON/);
  });
});

describe("sensitive", () => {
  it("adds writeOnly without changing what is valid, or the node it was given", () => {
    const node = { type: "string", minLength: 2 } as const;
    const token = sensitive(node);
    expect(token).toEqual({ type: "string", minLength: 2, writeOnly: true });
    expect(node).toEqual({ type: "string", minLength: 2 });
    expect(checkAgainstSchema("ab", token)).toEqual([]);
    expect(checkAgainstSchema("a", token)).toEqual([{ key: "(root)", reason: "must have at least 2 characters" }]);
  });
});

describe("the typed config at run time", () => {
  it("never loads TypeBox, whose types alone it uses: a plugin's start-up does not pay for it", () => {
    const entry = fileURLToPath(new URL("../dist/index.js", import.meta.url));
    if (!existsSync(entry))
      throw new Error(`${entry} is missing: run \`tsc -b\` at the repository root before this test`);
    const script = `
      const { registerHooks } = await import("node:module");
      const loaded = [];
      registerHooks({
        resolve(specifier, context, next) {
          const resolved = next(specifier, context);
          loaded.push(resolved.url);
          return resolved;
        },
      });
      const sdk = await import(${JSON.stringify(entry)});
      const config = sdk.defineConfig({
        what: "x",
        schema: { type: "object", properties: { a: { type: "string", default: "b" } } },
      });
      console.log(JSON.stringify({
        parsed: config.parse("{}"),
        sdkLoaded: loaded.some((url) => url.endsWith("/plugin-sdk/dist/config.js")),
        typebox: loaded.filter((url) => url.includes("/typebox/")),
      }));`;
    const output = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(JSON.parse(output)).toEqual({ parsed: { a: "b" }, sdkLoaded: true, typebox: [] });
  });
});
