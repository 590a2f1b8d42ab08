import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeAws, startFakeAws } from "./server.js";

let fake: FakeAws;
beforeEach(async () => {
  fake = await startFakeAws();
});
afterEach(async () => {
  await fake.close();
});

const query = (body: string) =>
  fetch(`${fake.endpoint}/`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body,
  });

describe("the EC2 fake", () => {
  it("answers DescribeRegions in the EC2 Query protocol's XML, including not-opted-in regions only with AllRegions", async () => {
    const all = await (await query("Action=DescribeRegions&Version=2016-11-15&AllRegions=true")).text();
    expect(all).toContain("<DescribeRegionsResponse");
    expect(all).toContain("<regionName>af-south-1</regionName>");
    const enabled = await (await query("Action=DescribeRegions&Version=2016-11-15")).text();
    expect(enabled).not.toContain("af-south-1");
  });

  it("answers errors as EC2's <Response><Errors> XML", async () => {
    fake.faults.inject("DescribeRegions", { type: "UnauthorizedOperation", status: 403, message: "no <way>" });
    const response = await query("Action=DescribeRegions&Version=2016-11-15");
    expect(response.status).toBe(403);
    expect(await response.text()).toContain("<Code>UnauthorizedOperation</Code><Message>no &#60;way&#62;</Message>");
  });
});
