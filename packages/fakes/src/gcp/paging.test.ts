import { describe, expect, it } from "vitest";
import { decodePageToken, encodePageToken, requestScope } from "./paging.js";

describe("page tokens", () => {
  it("round-trip a cursor for the same request and refuse another request's or a garbled token", () => {
    const scope = requestScope("ListJobs", "projects/p/locations/l");
    const token = encodePageToken(scope, { cursor: 20, issuedAt: 5 });
    expect(decodePageToken(token, scope)).toEqual({ cursor: 20, issuedAt: 5 });
    expect(() => decodePageToken(token, requestScope("ListJobs", "projects/p/locations/other"))).toThrow(
      /same parameters/,
    );
    expect(() => decodePageToken("not-a-token", scope)).toThrow(/Invalid page token/);
  });
});
