import {
  AlreadyExistsError,
  CanceledError,
  Code,
  DeadlineExceededError,
  FailedPreconditionError,
  type FlotillaError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
  UnimplementedError,
} from "@flotilla/protocol";
import { eventually, processesMatching } from "@flotilla/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newMarker } from "../plugin/fixtures/fake-plugin.js";
import { sdkPluginConfig } from "../plugin/fixtures/sdk-plugin.js";
import type { PluginLogRecord } from "../plugin/log-record.js";
import { PluginHost } from "../plugin/plugin-manager.js";
import { ProviderClient } from "./provider-client.js";

const marker = newMarker();
const records: PluginLogRecord[] = [];
const host = new PluginHost({ logSink: (r) => records.push(r) });

beforeAll(async () => {
  await host.start([sdkPluginConfig("sdk", marker)]);
});

afterAll(async () => {
  await host.stop();
  expect(await eventually(() => processesMatching(marker).length === 0)).toBe(true);
});

describe("ProviderClient against a plugin built with the SDK", () => {
  it("offers exactly the services the registry lists", () => {
    const provider = host.provider("sdk");
    expect(provider.registry.services.sort()).toEqual([
      "flotilla.plugin.v1.IaCProviderRunnerService",
      "flotilla.plugin.v1.RegionListerService",
    ]);
    expect(provider.runner()).toBeDefined();
    expect(provider.regionLister()).toBeDefined();
    expect(provider.resourceDriver()).toBeUndefined();
    expect(provider.driftDetector()).toBeUndefined();
  });

  it("calls unary methods and returns protobuf-es messages", async () => {
    const provider = host.provider("sdk");
    const regions = await provider.regionLister()?.listRegions();
    expect(regions?.$typeName).toBe("flotilla.plugin.v1.ListRegionsResponse");
    expect(regions?.regions.map((r) => r.id)).toEqual(["local"]);
    const run = await provider.runner()?.runJob({ spec: { name: "hello" } });
    expect(run?.handle?.jobId).toBe("job-hello");
    const described = await provider.provider().describe();
    expect(described.name).toBe("sdk-fake");
  });

  it("streams JobLogs as an AsyncIterable", async () => {
    const lines: string[] = [];
    const runner = host.provider("sdk").runner();
    for await (const chunk of runner?.jobLogs({ handle: { provider: "sdk-fake", jobId: "j1" } }) ?? []) {
      for (const line of chunk.lines) lines.push(line.text);
    }
    expect(lines).toEqual(["line 1 of j1", "line 2 of j1", "line 3 of j1"]);
  });

  it("passes the caller's deadline to the handler, whose AbortSignal fires when it passes", async () => {
    const runner = host.provider("sdk").runner();
    const err = await runner?.runJob({ spec: { name: "wait-for-abort" } }, { timeoutMs: 400 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeadlineExceededError);
    expect(await eventually(() => records.some((r) => r.message === "handler aborted"))).toBe(true);
    const waiting = records.find((r) => r.message === "handler waiting");
    expect(typeof waiting?.fields.deadline).toBe("string");
    records.length = 0;
  });

  it("passes the caller's AbortSignal to the handler", async () => {
    const runner = host.provider("sdk").runner();
    const controller = new AbortController();
    const call = runner?.runJob({ spec: { name: "wait-for-abort" } }, { signal: controller.signal });
    expect(await eventually(() => records.some((r) => r.message === "handler waiting"))).toBe(true);
    controller.abort();
    await expect(call).rejects.toBeInstanceOf(CanceledError);
    expect(await eventually(() => records.some((r) => r.message === "handler aborted"))).toBe(true);
    expect(records.find((r) => r.message === "handler waiting")?.fields.deadline).toBeNull();
  });

  const classes: [Code, new (message: string) => FlotillaError][] = [
    [Code.NotFound, NotFoundError],
    [Code.AlreadyExists, AlreadyExistsError],
    [Code.ResourceExhausted, ResourceExhaustedError],
    [Code.Unavailable, UnavailableError],
    [Code.DeadlineExceeded, DeadlineExceededError],
    [Code.Unauthenticated, UnauthenticatedError],
    [Code.PermissionDenied, PermissionDeniedError],
    [Code.InvalidArgument, InvalidArgumentError],
    [Code.FailedPrecondition, FailedPreconditionError],
    [Code.Unimplemented, UnimplementedError],
    [Code.Canceled, CanceledError],
    [Code.Internal, InternalError],
  ];

  it.each(classes)(
    "round-trips code %i: the handler throws the class, the caller catches the same class",
    async (code, ErrorClass) => {
      const name = `throw-${code}`;
      const err = await host
        .provider("sdk")
        .runner()
        ?.runJob({ spec: { name } })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ErrorClass);
      const flotilla = err as FlotillaError;
      expect(flotilla.code).toBe(code);
      expect(flotilla.message).toBe(`job ${name} failed on purpose`);
      expect(flotilla.metadata).toMatchObject({ "x-job": name });
      const cause = flotilla.cause as { code: number; details: string; metadata: unknown };
      expect(cause.code).toBe(code);
      expect(cause.details).toBe(`job ${name} failed on purpose`);
      expect(cause.metadata).toBeDefined();
    },
  );
});

describe("ProviderClient before its plugin has started", () => {
  it("says that the plugin has no registry yet instead of offering services", () => {
    const notStarted = new ProviderClient({
      name: "later",
      registry: undefined,
      unary: () => Promise.reject(new Error("not called")),
      serverStream: () => {
        throw new Error("not called");
      },
    });
    expect(() => notStarted.registry).toThrow('plugin "later" has not started yet; it has no registry');
  });
});
