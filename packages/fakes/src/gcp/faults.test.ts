import { describe, expect, it } from "vitest";
import { GrpcStatus } from "./api-error.js";
import { GcpFaultInjector, GcpFaults } from "./faults.js";

describe("GcpFaultInjector", () => {
  it("fails the next calls of a method, in order, then lets calls through", () => {
    const faults = new GcpFaultInjector();
    faults.inject("GetJob", GcpFaults.unavailable, 2);
    faults.inject("*", () => GcpFaults.permissionDenied("run.jobs.get"));
    expect(faults.take("GetJob")?.code).toBe(GrpcStatus.UNAVAILABLE);
    expect(faults.take("GetJob")?.code).toBe(GrpcStatus.UNAVAILABLE);
    expect(faults.take("ListJobs")?.message).toMatch(/run\.jobs\.get/);
    expect(faults.take("GetJob")).toBeUndefined();
  });
});
