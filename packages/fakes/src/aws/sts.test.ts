import { describe, expect, it } from "vitest";
import { FakeClock } from "./clock.js";
import { FakeSts } from "./sts.js";

describe("FakeSts", () => {
  it("hands out temporary keys for AssumeRole and records the call", () => {
    const sts = new FakeSts(new FakeClock());
    const xml = sts.handle(
      "AssumeRole",
      new URLSearchParams({ RoleArn: "arn:aws:iam::123456789012:role/deployer", RoleSessionName: "flotilla-run-7" }),
    );
    expect(sts.assumed).toEqual([
      {
        roleArn: "arn:aws:iam::123456789012:role/deployer",
        sessionName: "flotilla-run-7",
        accessKeyId: expect.stringMatching(/^ASIA[0-9A-F]{16}$/),
      },
    ]);
    expect(xml).toContain(`<AccessKeyId>${sts.assumed[0]?.accessKeyId}</AccessKeyId>`);
    expect(xml).toContain("<Arn>arn:aws:sts::123456789012:assumed-role/deployer/flotilla-run-7</Arn>");
    expect(sts.handle("GetCallerIdentity", new URLSearchParams())).toBeUndefined();
  });

  it("names the assumed role by its name without its path, in the role's partition", () => {
    const sts = new FakeSts(new FakeClock());
    const xml = sts.handle(
      "AssumeRole",
      new URLSearchParams({ RoleArn: "arn:aws-cn:iam::210987654321:role/ci/jobs/runner", RoleSessionName: "nightly" }),
    );
    expect(xml).toContain("<Arn>arn:aws-cn:sts::210987654321:assumed-role/runner/nightly</Arn>");
  });
});
