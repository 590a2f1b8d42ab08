import { describe, expect, it } from "vitest";
import { unknownJobIdLike } from "./conformance-jobs.js";

describe("unknownJobIdLike", () => {
  it("asks about an unknown job with an id in the plugin's own format", () => {
    expect(unknownJobIdLike("arn:aws:ecs:eu-west-1:123456789012:task/jobs/0f1e2d3c4b5a")).toBe(
      "arn:aws:ecs:eu-west-1:123456789012:task/jobs/100000000000",
    );
    expect(unknownJobIdLike("local-7a9b")).toBe("local-0000");
    expect(unknownJobIdLike("x")).toMatch(/^conformance-no-such-job-/);
  });
});
