import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { logsOp } from "./fixtures/wire.js";
import { type FakeAws, startFakeAws } from "./server.js";

let fake: FakeAws;
beforeEach(async () => {
  fake = await startFakeAws();
});
afterEach(async () => {
  await fake.close();
});

describe("the CloudWatch Logs fake", () => {
  it("pages with forward tokens that stay put at the end until new events arrive", async () => {
    fake.logs.append("/g", "s", "one");
    fake.logs.append("/g", "s", "two");
    const first = await logsOp(fake.endpoint, "GetLogEvents", {
      logGroupName: "/g",
      logStreamName: "s",
      startFromHead: true,
      limit: 1,
    });
    expect((first.body.events as Array<{ message: string }>).map((e) => e.message)).toEqual(["one"]);
    const second = await logsOp(fake.endpoint, "GetLogEvents", {
      logGroupName: "/g",
      logStreamName: "s",
      nextToken: first.body.nextForwardToken,
    });
    expect((second.body.events as Array<{ message: string }>).map((e) => e.message)).toEqual(["two"]);
    const end = await logsOp(fake.endpoint, "GetLogEvents", {
      logGroupName: "/g",
      logStreamName: "s",
      nextToken: second.body.nextForwardToken,
    });
    expect(end.body.events).toEqual([]);
    expect(end.body.nextForwardToken).toBe(second.body.nextForwardToken);
  });

  it("reports a missing stream as ResourceNotFoundException", async () => {
    fake.logs.ensureStream("/g", "s");
    const out = await logsOp(fake.endpoint, "GetLogEvents", { logGroupName: "/g", logStreamName: "other" });
    expect(out.body).toEqual({
      __type: "ResourceNotFoundException",
      message: "The specified log stream does not exist.",
    });
  });
});
