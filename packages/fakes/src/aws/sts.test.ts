import { describe, expect, it } from "vitest";
import { FakeClock } from "./clock.js";
import { FakeSts } from "./sts.js";

describe("FakeSts", () => {
  it("hands out temporary keys for AssumeRole and records the call", () => {
    const sts = new FakeSts(new FakeClock());
    const xml = sts.handle(
      "AssumeRole",
      new URLSearchParams({ RoleArn: "arn:aws:iam::123456789012:role/r", RoleSessionName: "s" }),
    );
    expect(xml).toContain(`<AccessKeyId>${sts.assumed[0]?.accessKeyId}</AccessKeyId>`);
    expect(xml).toContain("<Arn>arn:aws:sts::123456789012:assumed-role/r/r</Arn>");
    expect(sts.handle("GetCallerIdentity", new URLSearchParams())).toBeUndefined();
  });
});
