import type { DescMethod } from "@bufbuild/protobuf";
import { IaCProviderRunnerService, ResourceDriverService } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import type { CallOptions } from "../rpc/call-options.js";
import type { PluginTransport } from "../rpc/transport.js";
import { createServiceClient } from "./service-client.js";

/** A transport that records what the client asked for and answers with the method's name. */
function recordingTransport() {
  const calls: { kind: string; method: string; request: unknown; options: CallOptions | undefined }[] = [];
  const transport = {
    unary: async (method: DescMethod, request: unknown, options?: CallOptions) => {
      calls.push({ kind: "unary", method: method.name, request, options });
      return { answeredBy: method.name };
    },
    serverStream: async function* (method: DescMethod, request: unknown, options?: CallOptions) {
      calls.push({ kind: "stream", method: method.name, request, options });
      yield { answeredBy: method.name };
    },
  } as unknown as PluginTransport;
  return { calls, transport };
}

describe("createServiceClient", () => {
  it("has one function per method, unary or streaming as the descriptor says, passing request and options through", async () => {
    const { calls, transport } = recordingTransport();
    const runner = createServiceClient(IaCProviderRunnerService, transport);
    expect(Object.keys(runner).sort()).toEqual(["batchJobStatus", "cancelJob", "jobLogs", "jobStatus", "runJob"]);
    const signal = new AbortController().signal;
    expect(await runner.runJob({ spec: { name: "a" } }, { timeoutMs: 5, signal })).toEqual({ answeredBy: "RunJob" });
    const streamed: unknown[] = [];
    for await (const m of runner.jobLogs({ follow: true })) streamed.push(m);
    expect(streamed).toEqual([{ answeredBy: "JobLogs" }]);
    expect(calls).toEqual([
      { kind: "unary", method: "RunJob", request: { spec: { name: "a" } }, options: { timeoutMs: 5, signal } },
      { kind: "stream", method: "JobLogs", request: { follow: true }, options: undefined },
    ]);
  });

  it("defaults the request to an empty message", async () => {
    const { calls, transport } = recordingTransport();
    await createServiceClient(ResourceDriverService, transport).sensitiveKeys();
    expect(calls[0]).toMatchObject({ method: "SensitiveKeys", request: {} });
  });
});
