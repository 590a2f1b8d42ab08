import { InvalidArgumentError } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import { parseTaskArn, taskRefFromHandle } from "./task-arn.js";

describe("task ARNs as job ids", () => {
  it("reads region, cluster and id from a long-format ARN", () => {
    expect(parseTaskArn("arn:aws:ecs:eu-west-1:123456789012:task/batch/0123abcd", "default")).toEqual({
      taskArn: "arn:aws:ecs:eu-west-1:123456789012:task/batch/0123abcd",
      region: "eu-west-1",
      cluster: "batch",
      taskId: "0123abcd",
    });
  });

  it("falls back to the configured cluster for an old-format ARN", () => {
    expect(parseTaskArn("arn:aws-us-gov:ecs:us-gov-west-1:123456789012:task/0123abcd", "main")?.cluster).toBe("main");
  });

  it("rejects a handle that is not an ECS task ARN with InvalidArgument", () => {
    expect(() =>
      taskRefFromHandle({ provider: "aws", jobId: "arn:aws:ecs:eu-west-1:123456789012:service/x" } as never, "d"),
    ).toThrow(InvalidArgumentError);
    expect(() => taskRefFromHandle(undefined, "d")).toThrow(/is not an ECS task ARN/);
  });
});
