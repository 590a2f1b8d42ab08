import { describe, expect, it } from "vitest";
import { AwsApiError } from "./api-error.js";

describe("AwsApiError", () => {
  it("carries the wire type, status and extra body fields", () => {
    const err = new AwsApiError("ConflictException", "used", 400, { resourceIds: ["a"] });
    expect(err).toMatchObject({
      type: "ConflictException",
      status: 400,
      message: "used",
      fields: { resourceIds: ["a"] },
    });
  });
});
