import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ListClustersCommand } from "@aws-sdk/client-ecs";
import { type FakeAws, startFakeAws } from "@flotilla/fakes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AwsClients } from "./clients.js";

const distDir = join(dirname(fileURLToPath(import.meta.url)), "..", "dist");

let fake: FakeAws;
beforeAll(async () => {
  fake = await startFakeAws();
});
afterAll(async () => {
  await fake.close();
});

describe("AwsClients", () => {
  it("loads no AWS SDK module until a client is first asked for", async () => {
    // A fresh process: vitest itself has the SDK loaded already.
    const script = `
      import { createRequire } from "node:module";
      const { createAwsPlugin } = await import(${JSON.stringify(join(distDir, "plugin.js"))});
      const { AwsClients } = await import(${JSON.stringify(join(distDir, "clients.js"))});
      const cache = createRequire(import.meta.url).cache;
      const loaded = () => Object.keys(cache).filter((k) => k.includes("@aws-sdk")).length;
      createAwsPlugin();
      const before = loaded();
      const clients = new AwsClients({ region: "eu-west-1", maxAttempts: 1, credentials: { accessKeyId: "a", secretAccessKey: "b" } });
      await clients.ecs();
      console.log(JSON.stringify({ before, after: loaded() }));
      await clients.destroy();
    `;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ["--input-type=module", "-e", script], { timeout: 30_000 }, (err, stdout) =>
        err ? reject(err) : resolve(stdout),
      ),
    );
    const { before, after } = JSON.parse(out) as { before: number; after: number };
    expect(before).toBe(0);
    expect(after).toBeGreaterThan(0);
  });

  it("caches one client per region and signs with the region it was created for", async () => {
    const clients = new AwsClients({
      region: "eu-west-1",
      endpoint: fake.endpoint,
      maxAttempts: 1,
      credentials: { accessKeyId: "a", secretAccessKey: "b" },
    });
    try {
      expect(await clients.ecs()).toBe(await clients.ecs("eu-west-1"));
      const other = await clients.ecs("us-west-2");
      expect(other).not.toBe(await clients.ecs());
      expect(await other.config.region()).toBe("us-west-2");
      await expect(other.send(new ListClustersCommand({}))).rejects.toThrow(/does not simulate/);
    } finally {
      await clients.destroy();
    }
  });
});
