import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DescribeClustersCommand, ListClustersCommand } from "@aws-sdk/client-ecs";
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

describe("AwsClients credentials", () => {
  const describeClusters = async (clients: AwsClients) => {
    await (await clients.ecs()).send(new DescribeClustersCommand({ clusters: ["default"] }));
    return fake.signers.accessKeyIds("DescribeClusters").at(-1);
  };

  it("signs with explicit static keys", async () => {
    const clients = new AwsClients({
      region: "eu-west-1",
      endpoint: fake.endpoint,
      maxAttempts: 1,
      credentials: { accessKeyId: "AKIDSTATIC", secretAccessKey: "s" },
    });
    try {
      expect(await describeClusters(clients)).toBe("AKIDSTATIC");
    } finally {
      await clients.destroy();
    }
  });

  it("signs with a named profile's keys from the shared credentials file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "aws-profile-"));
    const saved = { creds: process.env.AWS_SHARED_CREDENTIALS_FILE, config: process.env.AWS_CONFIG_FILE };
    try {
      await writeFile(
        join(dir, "credentials"),
        "[flotilla-test]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = p\n",
      );
      await writeFile(join(dir, "config"), "");
      process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, "credentials");
      process.env.AWS_CONFIG_FILE = join(dir, "config");
      const clients = new AwsClients({
        region: "eu-west-1",
        endpoint: fake.endpoint,
        maxAttempts: 1,
        profile: "flotilla-test",
      });
      try {
        expect(await describeClusters(clients)).toBe("AKIDPROFILE");
      } finally {
        await clients.destroy();
      }
    } finally {
      process.env.AWS_SHARED_CREDENTIALS_FILE = saved.creds;
      process.env.AWS_CONFIG_FILE = saved.config;
      if (saved.creds === undefined) delete process.env.AWS_SHARED_CREDENTIALS_FILE;
      if (saved.config === undefined) delete process.env.AWS_CONFIG_FILE;
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("assumes roleArn with the base keys and signs AWS calls with the role's temporary keys", async () => {
    const clients = new AwsClients({
      region: "eu-west-1",
      endpoint: fake.endpoint,
      maxAttempts: 1,
      credentials: { accessKeyId: "AKIDBASE", secretAccessKey: "b" },
      roleArn: "arn:aws:iam::123456789012:role/flotilla-operator",
      roleSessionName: "flotilla-test",
      externalId: "ext-1",
    });
    try {
      const signer = await describeClusters(clients);
      const assumed = fake.sts.assumed.at(-1);
      expect(assumed).toMatchObject({
        roleArn: "arn:aws:iam::123456789012:role/flotilla-operator",
        sessionName: "flotilla-test",
        externalId: "ext-1",
      });
      expect(fake.signers.accessKeyIds("AssumeRole").at(-1)).toBe("AKIDBASE");
      expect(signer).toBe(assumed?.accessKeyId);
      expect(signer).toMatch(/^ASIA/);
    } finally {
      await clients.destroy();
    }
  });
});
