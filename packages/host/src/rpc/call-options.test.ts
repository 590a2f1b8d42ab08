import { describe, expect, it } from "vitest";
import { deadlineOf, metadataOf } from "./call-options.js";

describe("call options", () => {
  it("turns timeoutMs into an absolute deadline", () => {
    const start = 1_700_000_000_000;
    expect(deadlineOf({ timeoutMs: 1000 }, () => start)).toEqual(new Date(start + 1000));
    expect(deadlineOf({})).toBeUndefined();
    expect(deadlineOf(undefined)).toBeUndefined();
  });

  it("copies headers into grpc metadata", () => {
    expect(metadataOf({ headers: { "x-request-id": "abc" } }).get("x-request-id")).toEqual(["abc"]);
    expect(metadataOf(undefined).getMap()).toEqual({});
  });
});
