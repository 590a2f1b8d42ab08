import { create } from "@bufbuild/protobuf";
import { PermissionDeniedError, RunJobRequestSchema } from "@flotilla/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AwsHarness, startAwsHarness } from "./fixtures/harness.js";

// What a first real run meets most often: the plugin's IAM identity may call ECS but lacks a permission ECS
// checks on its behalf. The job must fail at once, as PermissionDenied naming the action and the resource,
// with nothing started and no retries.
let h: AwsHarness;
beforeEach(async () => {
  h = await startAwsHarness();
});
afterEach(async () => {
  await h.close();
});

const run = () =>
  h.runner.runJob(
    create(RunJobRequestSchema, { spec: { name: "etl", image: "ghcr.io/acme/etl:1", command: ["/bin/etl"] } }),
    h.context,
  );

describe("IAM denials ECS reports for the plugin's identity", () => {
  it("iam:PassRole on the execution role: PermissionDenied naming the action and the role, nothing registered or started", async () => {
    h.fake.ecs.denyAction("iam:PassRole");
    const failed = run();
    await expect(failed).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(failed).rejects.toThrow(
      /not authorized to perform: iam:PassRole on resource: arn:aws:iam::123456789012:role\/ecsTaskExecutionRole.*grant the plugin's IAM identity the permission/,
    );
    expect(h.fake.ecs.registeredTaskDefinitionCount()).toBe(0);
    expect(h.fake.ecs.taskArns()).toEqual([]);
    expect(h.fake.calls.count("RegisterTaskDefinition")).toBe(1);
  });

  it("ecs:TagResource for the tags on RunTask: PermissionDenied naming the action, no task started, no retry", async () => {
    h.fake.ecs.denyAction("ecs:TagResource");
    await expect(run()).rejects.toThrow(
      expect.objectContaining({
        constructor: PermissionDeniedError,
        message: expect.stringMatching(/ECS RunTask failed: .*not authorized to perform: ecs:TagResource/),
      }),
    );
    expect(h.fake.ecs.taskArns()).toEqual([]);
    expect(h.fake.calls.count("RunTask")).toBe(1);
  });
});
