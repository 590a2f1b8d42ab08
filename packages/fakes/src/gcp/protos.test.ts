import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { encodeAs, protoIncludeDirs, serviceDefinition } from "./protos.js";

describe("the GCP fake's protos", () => {
  it("come from the client packages and define the services the fake serves", () => {
    const dirs = protoIncludeDirs();
    expect(dirs.some((d) => existsSync(join(d, "google/cloud/run/v2/job.proto")))).toBe(true);
    expect(dirs.some((d) => existsSync(join(d, "google/logging/v2/logging.proto")))).toBe(true);
    expect(dirs.some((d) => existsSync(join(d, "google/longrunning/operations.proto")))).toBe(true);
    expect(Object.keys(serviceDefinition("google.cloud.run.v2.Jobs"))).toEqual(
      expect.arrayContaining(["CreateJob", "GetJob", "ListJobs", "DeleteJob", "RunJob"]),
    );
    expect(() => serviceDefinition("google.cloud.run.v2.Nope")).toThrow(/no proto/);
  });

  it("encodes a Job as GetJob returns it, for an operation's Any", () => {
    const bytes = encodeAs("google.cloud.run.v2.Jobs", "GetJob", { name: "projects/p/locations/l/jobs/j" });
    expect(bytes.toString("latin1")).toContain("projects/p/locations/l/jobs/j");
  });
});
