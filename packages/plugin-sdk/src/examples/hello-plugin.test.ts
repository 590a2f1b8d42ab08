import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  Code,
  ContractRegistryService,
  IaCProviderService,
  OptionalServiceName,
  RegionListerService,
} from "@flotilla/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { compiledFixture } from "../testing/fixtures/fixture-path.js";
import { pluginClient } from "../testing/plugin-client.js";
import { type SpawnedPlugin, spawnPlugin } from "../testing/spawn-plugin.js";

const examplePath = fileURLToPath(new URL("./hello-plugin.ts", import.meta.url));
const readmePath = fileURLToPath(new URL("../../README.md", import.meta.url));
const compiledExample = compiledFixture("../../examples/hello-plugin");

const running: SpawnedPlugin[] = [];
const clients: { close(): void }[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  for (const p of running.splice(0)) p.kill();
});

describe("the README's example plugin", () => {
  it("is, byte for byte, src/examples/hello-plugin.ts (so the README cannot drift from the tested file)", () => {
    const readme = readFileSync(readmePath, "utf8");
    const block = /```ts file=src\/examples\/hello-plugin\.ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block, "README.md needs a ```ts file=src/examples/hello-plugin.ts block").toBeDefined();
    expect(block).toBe(readFileSync(examplePath, "utf8"));
  });

  it("compiles, starts as a subprocess, advertises RegionLister, checks its typed config and keeps its secret out of logs", async () => {
    const plugin = await spawnPlugin(process.execPath, [compiledExample]);
    running.push(plugin);
    const registry = pluginClient(plugin.handshake, ContractRegistryService);
    const provider = pluginClient(plugin.handshake, IaCProviderService);
    const regions = pluginClient(plugin.handshake, RegionListerService);
    clients.push(registry, provider, regions);

    const { registry: r } = await registry.unary("getContractRegistry", {});
    expect(r?.pluginName).toBe("hello");
    expect(r?.services).toEqual([OptionalServiceName.regionLister]);
    expect(JSON.parse(r?.configSchemaJson ?? "{}").properties.greeting).toEqual({
      type: "string",
      minLength: 1,
      default: "hello",
    });

    expect(JSON.parse(r?.configSchemaJson ?? "{}").properties.apiKey.writeOnly).toBe(true);

    const apiKey = "k-0f1e2d3c4b";
    await provider.unary("configure", {
      configJson: new TextEncoder().encode(JSON.stringify({ greeting: "hi", apiKey })),
    });
    await expect(
      provider.unary("configure", { configJson: new TextEncoder().encode('{"greeting":42}') }),
    ).rejects.toMatchObject({
      code: Code.InvalidArgument,
      message: "hello provider config is invalid: greeting: must be a string, got a number",
    });
    expect((await regions.unary("listRegions", {})).regions.map((x) => x.displayName)).toEqual(["hi, Earth"]);
    await expect.poll(() => plugin.stderr()).toContain('"@message":"configured"');
    expect(plugin.stderr()).toContain('"config":{"greeting":"hi","apiKey":"[redacted]"}');
    expect(plugin.stderr()).not.toContain(apiKey);

    plugin.child.kill("SIGTERM");
    expect((await plugin.exited).code).toBe(0);
  });
});
