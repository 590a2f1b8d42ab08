import { DescribeTasksCommand, ECSClient, RunTaskCommand } from "@aws-sdk/client-ecs";
import { AwsFaults, type AwsWireError, type FakeAws, startFakeAws } from "@flotilla/fakes";
import {
  AlreadyExistsError,
  type FlotillaError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
} from "@flotilla/protocol";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { translateAwsError } from "./errors.js";

let fake: FakeAws;
let ecs: ECSClient;
beforeAll(async () => {
  fake = await startFakeAws();
  ecs = new ECSClient({
    region: "us-east-1",
    endpoint: fake.endpoint,
    credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test" },
    maxAttempts: 2,
  });
});
afterAll(async () => {
  ecs.destroy();
  await fake.close();
});
beforeEach(() => {
  fake.faults.clear();
  fake.calls.reset();
});

/** The translated error of a real SDK call that fails at the fake. */
async function translatedFailure(call: () => Promise<unknown>): Promise<FlotillaError> {
  try {
    await call();
  } catch (err) {
    return translateAwsError(err, "ECS DescribeTasks");
  }
  throw new Error("the call did not fail");
}

const describeTasks = () => ecs.send(new DescribeTasksCommand({ cluster: "default", tasks: ["abc"] }));

describe("translateAwsError on real SDK errors from the fake", () => {
  it.each<[string, AwsWireError, new (...args: never[]) => FlotillaError]>([
    ["throttling", AwsFaults.throttling, ResourceExhaustedError],
    ["access denied", AwsFaults.accessDenied, PermissionDeniedError],
    ["an expired token", AwsFaults.expiredToken, UnauthenticatedError],
    ["an unknown access key", AwsFaults.unrecognizedClient, UnauthenticatedError],
    ["a 500", AwsFaults.serverError, UnavailableError],
    ["a 503", AwsFaults.serviceUnavailable, UnavailableError],
  ])("maps %s", async (_name, fault, ErrorClass) => {
    fake.faults.inject("DescribeTasks", fault, Number.POSITIVE_INFINITY);
    const error = await translatedFailure(describeTasks);
    expect(error).toBeInstanceOf(ErrorClass);
    expect(error.message).toContain(`ECS DescribeTasks failed: ${fault.type}`);
    expect(error.metadata["aws-error"]).toBe(fault.type);
  });

  it("sees throttling only after the SDK's own retries", async () => {
    fake.faults.inject("DescribeTasks", AwsFaults.throttling, Number.POSITIVE_INFINITY);
    const error = await translatedFailure(describeTasks);
    expect(error).toBeInstanceOf(ResourceExhaustedError);
    expect(fake.calls.count("DescribeTasks")).toBe(2);
    expect(error.message).toContain("after 2 attempts");
  });

  it("does not retry access denied", async () => {
    fake.faults.inject("DescribeTasks", AwsFaults.accessDenied, Number.POSITIVE_INFINITY);
    await translatedFailure(describeTasks);
    expect(fake.calls.count("DescribeTasks")).toBe(1);
  });

  it("maps a missing cluster to NotFound", async () => {
    const error = await translatedFailure(() =>
      ecs.send(new DescribeTasksCommand({ cluster: "nope", tasks: ["abc"] })),
    );
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toContain("ClusterNotFoundException");
  });

  it("maps ECS's 'not found' client errors to NotFound and other client errors to InvalidArgument", async () => {
    const missingDefinition = await translatedFailure(() =>
      ecs.send(new RunTaskCommand({ cluster: "default", taskDefinition: "nope" })),
    );
    expect(missingDefinition).toBeInstanceOf(NotFoundError);
    const tooMany = await translatedFailure(() =>
      ecs.send(new DescribeTasksCommand({ cluster: "default", tasks: Array.from({ length: 101 }, (_, i) => `t${i}`) })),
    );
    expect(tooMany).toBeInstanceOf(InvalidArgumentError);
    expect(tooMany.message).toContain("Tasks cannot be more than 100");
  });

  it("maps a refused connection to Unavailable", async () => {
    const closed = new ECSClient({
      region: "us-east-1",
      endpoint: "http://127.0.0.1:1",
      credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test" },
      maxAttempts: 1,
    });
    try {
      expect(
        await translatedFailure(() => closed.send(new DescribeTasksCommand({ cluster: "default", tasks: ["abc"] }))),
      ).toBeInstanceOf(UnavailableError);
    } finally {
      closed.destroy();
    }
  });

  it("maps conflicts to AlreadyExists, keeps FlotillaErrors, and calls anything else Internal", () => {
    expect(
      translateAwsError({ name: "ResourceAlreadyExistsException", $fault: "client", $metadata: {} }, "x"),
    ).toBeInstanceOf(AlreadyExistsError);
    const own = new NotFoundError("mine");
    expect(translateAwsError(own, "x")).toBe(own);
    expect(translateAwsError(new TypeError("bug"), "x")).toBeInstanceOf(InternalError);
  });
});
