import { create } from "@bufbuild/protobuf";
import {
  AlreadyExistsError,
  CheckResourceHealthRequestSchema,
  CreateResourceRequestSchema,
  DeleteResourceRequestSchema,
  DiagnosticSeverity,
  DiffResourceRequestSchema,
  InvalidArgumentError,
  NotFoundError,
  ReadResourceRequestSchema,
  ScaleResourceRequestSchema,
  SensitiveKeysRequestSchema,
  TroubleshootResourceRequestSchema,
  UpdateResourceRequestSchema,
} from "@flotilla/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AwsHarness, startAwsHarness } from "../fixtures/harness.js";

let h: AwsHarness;
let taskDefinition: string;
const ref = { type: "ecs.service", name: "web" };
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const parse = (bytes: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;

beforeEach(async () => {
  h = await startAwsHarness();
  // Register a task definition through the fake's API the way a user's pipeline would.
  const { ECSClient, RegisterTaskDefinitionCommand } = await import("@aws-sdk/client-ecs");
  const ecs = new ECSClient({
    region: "eu-west-1",
    endpoint: h.fake.endpoint,
    credentials: { accessKeyId: "a", secretAccessKey: "b" },
  });
  const out = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: "web",
      containerDefinitions: [{ name: "web", image: "nginx" }],
      networkMode: "awsvpc",
      cpu: "256",
      memory: "512",
    }),
  );
  ecs.destroy();
  taskDefinition = out.taskDefinition?.taskDefinitionArn as string;
});
afterEach(async () => {
  await h.close();
});

async function createWeb(desiredCount = 2) {
  return h.driver.createResource(
    create(CreateResourceRequestSchema, {
      ref,
      configJson: json({ taskDefinition, desiredCount, subnets: ["subnet-0123456789abcdef0"] }),
    }),
    h.context,
  );
}

describe("ecs.service", () => {
  it("creates, reads, updates and deletes a service", async () => {
    const created = await createWeb();
    expect(created.state?.ref?.providerId).toBe("arn:aws:ecs:eu-west-1:123456789012:service/default/web");
    expect(created.state?.status).toBe("ACTIVE");
    await expect(createWeb()).rejects.toBeInstanceOf(AlreadyExistsError);

    const read = await h.driver.readResource(create(ReadResourceRequestSchema, { ref }), h.context);
    expect(parse(read.state?.configJson as Uint8Array)).toMatchObject({
      taskDefinition,
      desiredCount: 2,
      cluster: "default",
      launchType: "FARGATE",
    });
    expect(parse(read.state?.outputsJson as Uint8Array)).toMatchObject({ runningCount: 2 });

    const updated = await h.driver.updateResource(
      create(UpdateResourceRequestSchema, {
        ref,
        configJson: json({ taskDefinition, desiredCount: 4, subnets: ["subnet-0123456789abcdef0"] }),
      }),
      h.context,
    );
    expect(parse(updated.state?.configJson as Uint8Array).desiredCount).toBe(4);
    await expect(
      h.driver.updateResource(
        create(UpdateResourceRequestSchema, { ref, configJson: json({ taskDefinition, launchType: "EC2" }) }),
        h.context,
      ),
    ).rejects.toThrow(/\/launchType cannot change in place/);

    await h.driver.deleteResource(create(DeleteResourceRequestSchema, { ref }), h.context);
    await expect(h.driver.readResource(create(ReadResourceRequestSchema, { ref }), h.context)).rejects.toBeInstanceOf(
      NotFoundError,
    );
    // Deleting a missing resource succeeds.
    await expect(h.driver.deleteResource(create(DeleteResourceRequestSchema, { ref }), h.context)).resolves.toEqual({});
  });

  it("diffs desired against actual config, flagging replacement keys", async () => {
    await createWeb();
    const same = await h.driver.diffResource(
      create(DiffResourceRequestSchema, { ref, desiredConfigJson: json({ taskDefinition, desiredCount: 2 }) }),
      h.context,
    );
    expect(same.changed).toBe(false);
    const diff = await h.driver.diffResource(
      create(DiffResourceRequestSchema, { ref, desiredConfigJson: json({ desiredCount: 5, launchType: "EC2" }) }),
      h.context,
    );
    expect(diff.changed).toBe(true);
    expect(diff.changes).toEqual([
      { path: "/desiredCount", actualJson: "2", desiredJson: "5", requiresReplacement: false },
      { path: "/launchType", actualJson: '"FARGATE"', desiredJson: '"EC2"', requiresReplacement: true },
    ]);
  });

  it("scales to a desired count and rejects counts outside int32 before calling ECS", async () => {
    await createWeb();
    const scaled = await h.driver.scaleResource(create(ScaleResourceRequestSchema, { ref, replicas: 7n }), h.context);
    expect(parse(scaled.state?.outputsJson as Uint8Array).desiredCount).toBe(7);
    h.fake.calls.reset();
    for (const replicas of [2_147_483_648n, -1n, 9_000_000_000n]) {
      await expect(
        h.driver.scaleResource(create(ScaleResourceRequestSchema, { ref, replicas }), h.context),
      ).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    expect(h.fake.calls.count("UpdateService")).toBe(0);
    const largest = await h.driver.scaleResource(
      create(ScaleResourceRequestSchema, { ref, replicas: 2_147_483_647n }),
      h.context,
    );
    expect(parse(largest.state?.outputsJson as Uint8Array).desiredCount).toBe(2_147_483_647);
  });

  it("reports health from running vs desired count and the deployment, and troubleshoots from events and stopped tasks", async () => {
    await createWeb(3);
    const healthy = await h.driver.checkResourceHealth(create(CheckResourceHealthRequestSchema, { ref }), h.context);
    expect(healthy).toEqual({ healthy: true, message: "3 of 3 tasks running" });

    h.fake.ecs.failServiceTasks("web", {
      stopCode: "TaskFailedToStart",
      stoppedReason: "CannotPullContainerError: pull access denied for nginx",
    });
    const sick = await h.driver.checkResourceHealth(create(CheckResourceHealthRequestSchema, { ref }), h.context);
    expect(sick.healthy).toBe(false);
    expect(sick.message).toMatch(/^0 of 3 tasks running; deployment IN_PROGRESS/);

    const { diagnostics } = await h.driver.troubleshootResource(
      create(TroubleshootResourceRequestSchema, { ref }),
      h.context,
    );
    expect(diagnostics?.[0]).toMatchObject({
      severity: DiagnosticSeverity.ERROR,
      summary: "task stopped: TaskFailedToStart",
      detail: "CannotPullContainerError: pull access denied for nginx",
    });
    expect(
      diagnostics?.some(
        (d) => d.severity === DiagnosticSeverity.WARNING && /deployment .* failed/.test(d.summary ?? ""),
      ),
    ).toBe(true);
  });

  it("rejects a bad config naming the key, and an unknown resource type", async () => {
    await expect(
      h.driver.createResource(
        create(CreateResourceRequestSchema, { ref, configJson: json({ desiredCount: 1 }) }),
        h.context,
      ),
    ).rejects.toThrow(/ecs.service config is invalid: taskDefinition: is required/);
    await expect(
      h.driver.createResource(
        create(CreateResourceRequestSchema, { ref, configJson: json({ taskDefinition, desiredCount: 3_000_000_000 }) }),
        h.context,
      ),
    ).rejects.toThrow(/desiredCount: must be <= 2147483647/);
    await expect(
      h.driver.readResource(create(ReadResourceRequestSchema, { ref: { type: "s3.bucket", name: "x" } }), h.context),
    ).rejects.toThrow(
      /"s3.bucket" is not a resource type the aws plugin knows; known types: ecs.service, logs.log-group/,
    );
    expect(h.fake.calls.count("CreateService")).toBe(0);
  });

  it("lists no sensitive keys: a service config holds references, not secret values", async () => {
    const out = await h.driver.sensitiveKeys(create(SensitiveKeysRequestSchema, { type: "ecs.service" }), h.context);
    expect(out.keys).toEqual([]);
  });
});
