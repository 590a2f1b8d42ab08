import { create, type DescMethod, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { JobSpecSchema } from "../gen/contract/flotilla/plugin/v1/job_pb.js";
import { IaCProviderRunnerService, RunJobRequestSchema } from "../gen/contract/flotilla/plugin/v1/runner_pb.js";
import { grpcMethodDefinition, grpcServiceDefinition } from "./grpc-service.js";

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

describe("grpcMethodDefinition", () => {
  // The contract has no client-streaming or bidi method yet; the stream flags must still be right for each
  // kind, or a later contract method would be served with the wrong call shape.
  const runJob = IaCProviderRunnerService.method.runJob;
  it.each([
    ["unary", false, false],
    ["server_streaming", false, true],
    ["client_streaming", true, false],
    ["bidi_streaming", true, true],
  ] as const)("sets the stream flags of a %s method", (methodKind, requestStream, responseStream) => {
    const method = { ...runJob, methodKind } as unknown as DescMethod;
    expect(grpcMethodDefinition(method)).toMatchObject({ requestStream, responseStream });
  });
});
