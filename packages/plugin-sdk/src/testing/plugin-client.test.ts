import { Code, NotFoundError, RegionListerService } from "@flotilla/protocol";
import { describe, expect, it, onTestFinished } from "vitest";
import type { PluginDefinition } from "../definition.js";
import { servePluginInProcess } from "./in-process.js";
import { pluginClient } from "./plugin-client.js";

describe("pluginClient", () => {
  it("refuses to connect without a client certificate to a plugin that serves AutoMTLS, as a host would", () => {
    const handshake = {
      coreProtocolVersion: 1,
      appProtocolVersion: 1,
      network: "unix" as const,
      address: "/x",
      protocol: "grpc" as const,
      serverCertDer: new Uint8Array([1]),
    };
    expect(() => pluginClient(handshake, RegionListerService)).toThrow(/serves AutoMTLS/);
  });
});

describe("pluginClient against a plugin served in this process", () => {
  const seen: { metadata?: Record<string, string>; deadline?: Date; aborted?: string }[] = [];
  const definition: PluginDefinition = {
    name: "client-test",
    version: "1.0.0",
    provider: { configure: () => ({}) },
    regionLister: {
      listRegions: (_request, context) => {
        seen.push({ metadata: context.metadata, deadline: context.deadline });
        if (context.metadata["x-hang"] !== "1") return { regions: [{ id: "r" }] };
        return new Promise((_resolve, reject) =>
          context.signal.addEventListener("abort", () => {
            seen.push({ aborted: (context.signal.reason as Error).message });
            reject(context.signal.reason);
          }),
        );
      },
    },
  };

  it("sends metadata, turns a deadline in milliseconds into a time from now, and names an unknown method", async () => {
    const plugin = await servePluginInProcess(definition);
    onTestFinished(() => plugin.close());
    const regions = plugin.client(RegionListerService);
    const before = Date.now();
    await regions.unary("listRegions", {}, { metadata: { "x-who": "test" }, deadline: 60_000 });
    const call = seen.at(-1);
    expect(call?.metadata).toMatchObject({ "x-who": "test" });
    expect(call?.deadline?.getTime()).toBeGreaterThanOrEqual(before + 59_000);
    expect(() => regions.unary("nope" as never, {} as never)).toThrow(
      "flotilla.plugin.v1.RegionListerService has no method nope",
    );
  });

  it("raises the error class a host's provider client raises: NotFoundError for NOT_FOUND, in calls and streams", async () => {
    const { IaCProviderRunnerService } = await import("@flotilla/protocol");
    const missing = () => {
      throw new NotFoundError("no job j-1", { metadata: { "job-id": "j-1" } });
    };
    const plugin = await servePluginInProcess({
      ...definition,
      runner: {
        runJob: missing,
        jobStatus: missing,
        batchJobStatus: missing,
        cancelJob: missing,
        // biome-ignore lint/correctness/useYield: the stream fails before its first message.
        async *jobLogs() {
          missing();
        },
      },
    });
    onTestFinished(() => plugin.close());
    const runner = plugin.client(IaCProviderRunnerService);
    const unary = await runner.unary("jobStatus", {}).catch((e: unknown) => e);
    expect(unary).toBeInstanceOf(NotFoundError);
    expect(unary).toMatchObject({ code: Code.NotFound, message: "no job j-1", metadata: { "job-id": "j-1" } });
    const streamed = await (async () => {
      for await (const _ of runner.serverStream("jobLogs", {})) {
        // no message is expected
      }
    })().catch((e: unknown) => e);
    expect(streamed).toBeInstanceOf(NotFoundError);
  });

  it("cancels a unary call and a stream when the signal aborts", async () => {
    const { IaCProviderRunnerService } = await import("@flotilla/protocol");
    const streaming = await servePluginInProcess({
      ...definition,
      runner: {
        runJob: () => ({}),
        jobStatus: () => ({}),
        batchJobStatus: () => ({}),
        cancelJob: () => ({}),
        async *jobLogs(_request, context) {
          yield { lines: [{ text: "first" }] };
          await new Promise((resolve) => context.signal.addEventListener("abort", resolve));
          seen.push({ aborted: `stream: ${(context.signal.reason as Error).message}` });
        },
      },
    });
    onTestFinished(() => streaming.close());
    const abort = new AbortController();
    const pending = streaming
      .client(RegionListerService)
      .unary("listRegions", {}, { metadata: { "x-hang": "1" }, signal: abort.signal });
    await expect.poll(() => seen.at(-1)?.metadata?.["x-hang"]).toBe("1");
    abort.abort();
    await expect(pending).rejects.toMatchObject({ code: 1 });
    await expect.poll(() => seen.at(-1)?.aborted).toBe("the caller cancelled the call");

    const streamAbort = new AbortController();
    const received: string[] = [];
    const reading = (async () => {
      for await (const item of streaming
        .client(IaCProviderRunnerService)
        .serverStream("jobLogs", {}, { signal: streamAbort.signal })) {
        received.push(...item.lines.map((l) => l.text));
        streamAbort.abort();
      }
    })();
    await expect(reading).rejects.toMatchObject({ code: 1 });
    expect(received).toEqual(["first"]);
    await expect.poll(() => seen.at(-1)?.aborted).toBe("stream: the caller cancelled the call");
  });

  it("close() closes the channel", async () => {
    const plugin = await servePluginInProcess(definition);
    onTestFinished(() => plugin.close());
    const client = pluginClient(plugin.server.handshake, RegionListerService);
    await client.unary("listRegions", {});
    client.close();
    expect(() => client.raw.getChannel().getConnectivityState(false)).not.toThrow();
    expect(client.raw.getChannel().getConnectivityState(false)).toBe(4);
  });
});
