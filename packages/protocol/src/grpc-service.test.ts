import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { JobSpecSchema } from "./gen/contract/flotilla/plugin/v1/job_pb.js";
import { IaCProviderRunnerService, RunJobRequestSchema } from "./gen/contract/flotilla/plugin/v1/runner_pb.js";
import { grpcServiceDefinition } from "./grpc-service.js";

describe("grpcServiceDefinition", () => {
  const definition = grpcServiceDefinition(IaCProviderRunnerService);

  it("uses the fully qualified gRPC paths and stream flags", () => {
    expect(definition.runJob?.path).toBe("/flotilla.plugin.v1.IaCProviderRunnerService/RunJob");
    expect(definition.runJob?.responseStream).toBe(false);
    expect(definition.jobLogs?.path).toBe("/flotilla.plugin.v1.IaCProviderRunnerService/JobLogs");
    expect(definition.jobLogs?.responseStream).toBe(true);
    expect(Object.keys(definition).sort()).toEqual(["batchJobStatus", "cancelJob", "jobLogs", "jobStatus", "runJob"]);
  });

  it("serializes with protobuf-es byte for byte", () => {
    const request = create(RunJobRequestSchema, {
      spec: create(JobSpecSchema, { name: "migrate", image: "busybox", env: { A: "1" } }),
    });
    const bytes = definition.runJob?.requestSerialize(request);
    expect(Buffer.compare(bytes as Buffer, Buffer.from(toBinary(RunJobRequestSchema, request)))).toBe(0);
    const back = definition.runJob?.requestDeserialize(bytes as Buffer) as typeof request;
    expect(back.spec?.name).toBe("migrate");
    expect(back.spec?.env).toEqual({ A: "1" });
  });

  it("rejects malformed protobuf instead of returning garbage", () => {
    expect(() => definition.runJob?.requestDeserialize(Buffer.from([0x0a, 0xff, 0xff, 0xff]))).toThrow();
  });
});
