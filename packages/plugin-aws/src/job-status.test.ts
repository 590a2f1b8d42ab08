import type { Task } from "@aws-sdk/client-ecs";
import { JobState } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import { jobStatusFromTask } from "./job-status.js";

const handle = { provider: "aws", jobId: "arn:aws:ecs:eu-west-1:123456789012:task/default/abc" };
const at = new Date("2026-01-01T00:00:00Z");
const task = (over: Partial<Task>): Task => ({
  taskArn: handle.jobId,
  createdAt: at,
  containers: [{ name: "job" }],
  ...over,
});

describe("jobStatusFromTask", () => {
  it.each([
    ["PROVISIONING", JobState.PENDING],
    ["PENDING", JobState.PENDING],
    ["ACTIVATING", JobState.PENDING],
    ["RUNNING", JobState.RUNNING],
  ])("maps %s to state %s with no exit code", (lastStatus, state) => {
    const status = jobStatusFromTask(handle, task({ lastStatus }));
    expect(status.state).toBe(state);
    expect(status.exitCode).toBeUndefined();
  });

  it("maps a stopping task by whether it ever started", () => {
    expect(jobStatusFromTask(handle, task({ lastStatus: "DEACTIVATING", startedAt: at })).state).toBe(JobState.RUNNING);
    expect(jobStatusFromTask(handle, task({ lastStatus: "STOPPING" })).state).toBe(JobState.PENDING);
  });

  it("takes the exit code from the job container, not another one", () => {
    const status = jobStatusFromTask(
      handle,
      task({
        lastStatus: "STOPPED",
        stopCode: "EssentialContainerExited",
        containers: [
          { name: "sidecar", exitCode: 1 },
          { name: "job", exitCode: 0 },
        ],
      }),
    );
    expect(status).toMatchObject({ state: JobState.SUCCEEDED, exitCode: 0, reason: "" });
  });

  it("marks a user stop CANCELLED and a flotilla timeout FAILED", () => {
    expect(
      jobStatusFromTask(handle, task({ lastStatus: "STOPPED", stopCode: "UserInitiated", stoppedReason: "bye" })).state,
    ).toBe(JobState.CANCELLED);
    const timedOut = jobStatusFromTask(
      handle,
      task({ lastStatus: "STOPPED", stopCode: "UserInitiated", stoppedReason: "Flotilla: job timeout of 5s exceeded" }),
    );
    expect(timedOut.state).toBe(JobState.FAILED);
  });

  it("explains a task that stopped without an exit code", () => {
    const status = jobStatusFromTask(handle, task({ lastStatus: "STOPPED" }));
    expect(status).toMatchObject({
      state: JobState.FAILED,
      reason: "the task stopped before its container reported an exit code",
    });
    expect(status.finishedAt).toBeUndefined();
  });

  it("reports an unknown ECS status as UNKNOWN, saying which", () => {
    expect(jobStatusFromTask(handle, task({ lastStatus: "WEIRD" }))).toMatchObject({
      state: JobState.UNKNOWN,
      reason: 'ECS reported an unknown task status "WEIRD"',
    });
  });
});
