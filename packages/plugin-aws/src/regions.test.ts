import { create } from "@bufbuild/protobuf";
import { AwsFaults } from "@flotilla/fakes";
import { ListRegionsRequestSchema, PermissionDeniedError } from "@flotilla/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AwsHarness, startAwsHarness } from "./fixtures/harness.js";

let h: AwsHarness;
beforeEach(async () => {
  h = await startAwsHarness();
});
afterEach(async () => {
  await h.close();
});

describe("ListRegions", () => {
  it("lists the regions EC2 DescribeRegions reports, sorted, with opt-in status as availability", async () => {
    h.fake.ec2.regions = [
      { regionName: "eu-west-1", optInStatus: "opt-in-not-required" },
      { regionName: "ap-east-1", optInStatus: "not-opted-in" },
      { regionName: "me-south-1", optInStatus: "opted-in" },
    ];
    const out = await h.plugin.definition.regionLister?.listRegions(create(ListRegionsRequestSchema), h.context);
    expect(out?.regions).toEqual([
      { id: "ap-east-1", displayName: "ap-east-1", available: false },
      { id: "eu-west-1", displayName: "eu-west-1", available: true },
      { id: "me-south-1", displayName: "me-south-1", available: true },
    ]);
    expect(h.fake.calls.count("DescribeRegions")).toBe(1);
  });

  it("translates EC2's UnauthorizedOperation (EC2 Query XML error) to PermissionDenied", async () => {
    h.fake.faults.inject("DescribeRegions", {
      type: "UnauthorizedOperation",
      status: 403,
      message: "You are not authorized to perform this operation.",
    });
    await expect(
      h.plugin.definition.regionLister?.listRegions(create(ListRegionsRequestSchema), h.context),
    ).rejects.toBeInstanceOf(PermissionDeniedError);
    expect(AwsFaults.accessDenied.type).toBe("AccessDeniedException");
  });
});
