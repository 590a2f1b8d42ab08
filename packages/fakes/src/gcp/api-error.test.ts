import { describe, expect, it } from "vitest";
import { GcpApiError, GrpcStatus } from "./api-error.js";

describe("GcpApiError", () => {
  it("carries the gRPC code and names the missing resource", () => {
    const error = GcpApiError.notFound("Job", "projects/p/locations/l/jobs/x");
    expect(error.code).toBe(GrpcStatus.NOT_FOUND);
    expect(error.message).toBe('Job "projects/p/locations/l/jobs/x" was not found.');
    expect(GcpApiError.invalid("bad").code).toBe(GrpcStatus.INVALID_ARGUMENT);
  });
});
