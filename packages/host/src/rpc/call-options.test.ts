import { describe, expect, it } from "vitest";
import { deadlineOf, metadataOf } from "./call-options.js";

describe("call options", () => {
  it("turns timeoutMs into an absolute deadline", () => {
    const before = Date.now();
    const deadline = deadlineOf({ timeoutMs: 1000 });
    expect(deadline?.getTime()).toBeGreaterThanOrEqual(before + 1000);
    expect(deadline?.getTime()).toBeLessThan(before + 2000);
    expect(deadlineOf({})).toBeUndefined();
    expect(deadlineOf(undefined)).toBeUndefined();
  });

  it("copies headers into grpc metadata", () => {
    expect(metadataOf({ headers: { "x-request-id": "abc" } }).get("x-request-id")).toEqual(["abc"]);
    expect(metadataOf(undefined).getMap()).toEqual({});
  });
});
