import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AwsFaults } from "./faults.js";
import { ecsOp } from "./fixtures/wire.js";
import { type FakeAws, startFakeAws } from "./server.js";

let fake: FakeAws;
beforeEach(async () => {
  fake = await startFakeAws();
});
afterEach(async () => {
  await fake.close();
});

describe("the AWS fake's server", () => {
  it("answers JSON 1.1 with the content type the SDK expects", async () => {
    const out = await ecsOp(fake.endpoint, "DescribeClusters", { clusters: ["default"] });
    expect(out.status).toBe(200);
    expect(out.contentType).toBe("application/x-amz-json-1.1");
    expect(out.body.clusters).toMatchObject([{ clusterName: "default", status: "ACTIVE" }]);
  });

  it("sends errors as __type + message with x-amzn-errortype, as AWS does", async () => {
    const out = await ecsOp(fake.endpoint, "DescribeTasks", { cluster: "missing", tasks: ["x"] });
    expect(out.status).toBe(400);
    expect(out.errorType).toBe("ClusterNotFoundException");
    expect(out.body).toEqual({ __type: "ClusterNotFoundException", message: "Cluster not found." });
  });

  it("injects faults and counts every call, including failed ones", async () => {
    fake.faults.inject("DescribeClusters", AwsFaults.serviceUnavailable, 1);
    expect((await ecsOp(fake.endpoint, "DescribeClusters", {})).status).toBe(503);
    expect((await ecsOp(fake.endpoint, "DescribeClusters", {})).status).toBe(200);
    expect(fake.calls.count("DescribeClusters")).toBe(2);
  });

  it("says which operation it does not simulate", async () => {
    const out = await ecsOp(fake.endpoint, "ListContainerInstances", {});
    expect(out.body.message).toMatch(/does not simulate AmazonEC2ContainerServiceV20141113.ListContainerInstances/);
  });
});
