import { create } from "@bufbuild/protobuf";
import { ResourceExhaustedError, RunJobRequestSchema, UnavailableError } from "@flotilla/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AwsHarness, startAwsHarness } from "./fixtures/harness.js";

// RunTask answers HTTP 200 with no task and a `failures` entry when ECS cannot place the task: that is
// neither success nor an exception, and the caller must get a retriable error that says why.
let h: AwsHarness;
beforeEach(async () => {
  h = await startAwsHarness();
});
afterEach(async () => {
  await h.close();
});

const request = (idempotencyKey = "") =>
  create(RunJobRequestSchema, {
    spec: { name: "report", image: "ghcr.io/acme/report:1", command: ["/bin/report"], idempotencyKey },
  });

describe("RunTask placing no task", () => {
  it("is ResourceExhausted with ECS's reason when capacity is short, and a retry with the same key starts exactly one task", async () => {
    h.fake.ecs.failPlacements({
      reason: "Capacity is unavailable at this time. Please try again later or in a different availability zone",
    });
    const failed = h.runner.runJob(request("nightly-2026-11-28"), h.context);
    await expect(failed).rejects.toBeInstanceOf(ResourceExhaustedError);
    await expect(failed).rejects.toThrow(/ECS RunTask placed no task: Capacity is unavailable at this time/);
    await expect(failed).rejects.toMatchObject({ retriable: true });

    const first = await h.runner.runJob(request("nightly-2026-11-28"), h.context);
    const again = await h.runner.runJob(request("nightly-2026-11-28"), h.context);
    expect(again.handle?.jobId).toBe(first.handle?.jobId);
    expect(h.fake.calls.count("RunTask")).toBe(3);
    expect(h.fake.ecs.taskArns()).toHaveLength(1);
  });

  it("names the placement reason and its detail for an EC2 cluster short of memory", async () => {
    h.fake.ecs.failPlacements({ reason: "RESOURCE:MEMORY", detail: "no container instance has 1024 MiB free" });
    await expect(h.runner.runJob(request(), h.context)).rejects.toThrow(
      expect.objectContaining({
        constructor: ResourceExhaustedError,
        message: expect.stringContaining("RESOURCE:MEMORY (no container instance has 1024 MiB free)"),
      }),
    );
  });

  it("is Unavailable for a reason that is not about capacity, such as a disconnected agent", async () => {
    h.fake.ecs.failPlacements({ reason: "AGENT" });
    await expect(h.runner.runJob(request(), h.context)).rejects.toThrow(
      expect.objectContaining({
        constructor: UnavailableError,
        message: expect.stringContaining("placed no task: AGENT"),
      }),
    );
  });
});
