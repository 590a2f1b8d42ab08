/**
 * What the Go and Python stub checks must report, derived from the
 * TypeScript side's own generated code (@flotilla/protocol), so a stub
 * generated from a different or partial contract fails the comparison.
 */
import { create, fromBinary, toJson } from "@bufbuild/protobuf";
import {
  hostv1,
  JobSpecSchema,
  optionalServices,
  type RunJobRequest,
  RunJobRequestSchema,
  requiredServices,
} from "@flotilla/protocol";

/** Every service of the contract, by fully qualified name, sorted. */
export function contractServiceNames(): string[] {
  return [...requiredServices, ...optionalServices, hostv1.HostService].map((service) => service.typeName).sort();
}

/**
 * The RunJobRequest both stub checks build (go/cmd/stubcheck,
 * python/check_stubs.py), built here with protobuf-es.
 */
export function expectedRunJobRequest(): RunJobRequest {
  return create(RunJobRequestSchema, {
    spec: create(JobSpecSchema, {
      name: "interop-check",
      image: "alpine:3.20",
      command: ["sh", "-c"],
      args: ["exit 0"],
      env: { GREETING: "hello" },
      secretEnv: { TOKEN: "secret://vault/ci/token" },
      resources: { cpuMillicores: 250, memoryMib: 128 },
      idempotencyKey: "stubcheck-1",
      target: { kind: { case: "gcpCloudRun", value: { project: "demo-project", region: "europe-west1" } } },
    }),
  });
}

/** Decodes another language's encoding of a RunJobRequest (base64) to proto3 JSON. */
export function decodeRunJobRequest(base64: string): unknown {
  return toJson(RunJobRequestSchema, fromBinary(RunJobRequestSchema, Buffer.from(base64, "base64")));
}

/** The proto3 JSON of {@link expectedRunJobRequest}. */
export function expectedRunJobRequestJson(): unknown {
  return toJson(RunJobRequestSchema, expectedRunJobRequest());
}
