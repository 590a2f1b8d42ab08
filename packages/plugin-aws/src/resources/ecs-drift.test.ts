import { create } from "@bufbuild/protobuf";
import {
  CreateResourceRequestSchema,
  DetectDriftRequestSchema,
  InvalidArgumentError,
  UnimplementedError,
  UpdateResourceRequestSchema,
} from "@flotilla/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AwsHarness, startAwsHarness } from "../fixtures/harness.js";

// DetectDrift for ecs.service: the service is changed behind Flotilla's back with the real ECS client, as an
// operator with the console or the CLI would, and the drift detector must see exactly those changes.
let h: AwsHarness;
let ecs: import("@aws-sdk/client-ecs").ECSClient;
let ecsModule: typeof import("@aws-sdk/client-ecs");
const ref = { type: "ecs.service", name: "web" };
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const subnets = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"];

async function registerRevision(): Promise<string> {
  const out = await ecs.send(
    new ecsModule.RegisterTaskDefinitionCommand({
      family: "web",
      containerDefinitions: [{ name: "web", image: "nginx" }],
      networkMode: "awsvpc",
      cpu: "256",
      memory: "512",
    }),
  );
  return out.taskDefinition?.taskDefinitionArn as string;
}

function detector() {
  const service = h.plugin.definition.driftDetector;
  if (!service) throw new Error("the aws plugin does not define a drift detector");
  return service;
}
const detect = (desired: Record<string, unknown>, name = ref.name) =>
  detector().detectDrift(
    create(DetectDriftRequestSchema, { ref: { ...ref, name }, desiredConfigJson: json(desired) }),
    h.context,
  );

beforeEach(async () => {
  h = await startAwsHarness();
  ecsModule = await import("@aws-sdk/client-ecs");
  ecs = new ecsModule.ECSClient({
    region: "eu-west-1",
    endpoint: h.fake.endpoint,
    credentials: { accessKeyId: "a", secretAccessKey: "b" },
  });
});
afterEach(async () => {
  ecs.destroy();
  await h.close();
});

const desired = { taskDefinition: "web", desiredCount: 2, subnets, tags: { team: "payments", tier: "web" } };

async function createWeb() {
  await registerRevision();
  return h.driver.createResource(create(CreateResourceRequestSchema, { ref, configJson: json(desired) }), h.context);
}

describe("ecs.service drift", () => {
  it("finds none right after create, with the family resolved to its latest revision and subnets in any order", async () => {
    const created = await createWeb();
    expect(await detect(desired)).toMatchObject({ drifted: false, missing: false, changes: [] });
    expect(await detect({ ...desired, subnets: [...subnets].reverse() })).toMatchObject({ drifted: false });
    // Flotilla's own tag is on the service, but it is not one of the user's.
    const tags = await ecs.send(
      new ecsModule.DescribeServicesCommand({ cluster: "default", services: ["web"], include: ["TAGS"] }),
    );
    expect(tags.services?.[0]?.tags).toContainEqual({ key: "flotilla:managed-by", value: "flotilla" });
    expect(created.state?.status).toBe("ACTIVE");
  });

  it("reports each change made behind its back: count, task definition, network and tags", async () => {
    const created = await createWeb();
    const revision1 = (await ecs.send(new ecsModule.DescribeTaskDefinitionCommand({ taskDefinition: "web" })))
      .taskDefinition?.taskDefinitionArn as string;
    const revision2 = await registerRevision();
    await ecs.send(
      new ecsModule.UpdateServiceCommand({
        cluster: "default",
        service: "web",
        desiredCount: 5,
        taskDefinition: revision1,
        networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-0123456789abcdef9"] } },
      }),
    );
    const serviceArn = created.state?.ref?.providerId as string;
    await ecs.send(new ecsModule.TagResourceCommand({ resourceArn: serviceArn, tags: [{ key: "team", value: "x" }] }));
    await ecs.send(new ecsModule.UntagResourceCommand({ resourceArn: serviceArn, tagKeys: ["tier"] }));

    const drift = await detect(desired);
    expect(drift.drifted).toBe(true);
    expect(drift.missing).toBe(false);
    const byPath = Object.fromEntries((drift.changes ?? []).map((c) => [c.path, [c.actualJson, c.desiredJson]]));
    expect(byPath).toEqual({
      "/desiredCount": ["5", "2"],
      // "web" means the latest ACTIVE revision, which is now revision 2.
      "/taskDefinition": [JSON.stringify(revision1), JSON.stringify(revision2)],
      "/subnets": [JSON.stringify(["subnet-0123456789abcdef9"]), JSON.stringify(subnets)],
      "/tags": [JSON.stringify({ team: "x" }), JSON.stringify({ team: "payments", tier: "web" })],
    });
  });

  it("compares only what the desired config sets", async () => {
    await createWeb();
    await ecs.send(new ecsModule.UpdateServiceCommand({ cluster: "default", service: "web", desiredCount: 7 }));
    expect(await detect({ taskDefinition: "web" })).toMatchObject({ drifted: false, changes: [] });
    expect(((await detect({ taskDefinition: "web", desiredCount: 2 })).changes ?? []).map((c) => c.path)).toEqual([
      "/desiredCount",
    ]);
  });

  it("reports a missing service as missing drift, not as an error", async () => {
    await registerRevision();
    expect(await detect(desired, "absent")).toMatchObject({ drifted: true, missing: true, changes: [] });
  });

  it("UpdateResource puts the tags back, leaving Flotilla's own", async () => {
    const created = await createWeb();
    const serviceArn = created.state?.ref?.providerId as string;
    await ecs.send(new ecsModule.TagResourceCommand({ resourceArn: serviceArn, tags: [{ key: "extra", value: "1" }] }));
    expect(((await detect(desired)).changes ?? []).map((c) => c.path)).toEqual(["/tags"]);
    await h.driver.updateResource(create(UpdateResourceRequestSchema, { ref, configJson: json(desired) }), h.context);
    expect(await detect(desired)).toMatchObject({ drifted: false });
    const tags = await ecs.send(
      new ecsModule.DescribeServicesCommand({ cluster: "default", services: ["web"], include: ["TAGS"] }),
    );
    expect(new Set(tags.services?.[0]?.tags?.map((t) => t.key))).toEqual(
      new Set(["team", "tier", "flotilla:managed-by"]),
    );
  });

  it("says where a broken desired config breaks without quoting it (the text may hold a secret)", async () => {
    const broken = new TextEncoder().encode('{"taskDefinition": "web", "tags": {"token": s3cr3t-value}}');
    const drift = detector().detectDrift(
      create(DetectDriftRequestSchema, { ref, desiredConfigJson: broken }),
      h.context,
    );
    await expect(drift).rejects.toThrow(/DetectDriftRequest.desired_config_json is not valid JSON/);
    await expect(drift).rejects.not.toThrow(/s3cr3t/);
  });

  it("refuses a desired config it cannot compare, naming the key", async () => {
    await createWeb();
    await expect(detect({ taskDefinition: "nope" })).rejects.toThrow(
      expect.objectContaining({
        constructor: InvalidArgumentError,
        message: expect.stringMatching(/taskDefinition: "nope" names no task definition/),
      }),
    );
    await expect(detect({ ...desired, tags: { "aws:owner": "me" } })).rejects.toThrow(
      /tags\["aws:owner"\]: "aws:" is reserved/,
    );
    await expect(detect({ ...desired, tags: { "flotilla:managed-by": "me" } })).rejects.toThrow(/Flotilla's own tag/);
    await expect(detect({ ...desired, tags: { "a\tb": "x" } })).rejects.toThrow(/only letters, numbers, spaces/);
  });

  it("says which types it covers when asked about another", async () => {
    await expect(
      detector().detectDrift(
        create(DetectDriftRequestSchema, { ref: { type: "logs.log-group", name: "/g" }, desiredConfigJson: json({}) }),
        h.context,
      ),
    ).rejects.toThrow(
      expect.objectContaining({ constructor: UnimplementedError, message: expect.stringMatching(/ecs\.service/) }),
    );
  });
});
