/**
 * One suite, every runner: the same commands through local, local-docker
 * (Podman's Docker-compatible API), kubernetes (fake API server), ephemeral
 * (fake Argo server) and provider-ephemeral (in-process fake provider
 * runner), checking output, exit codes 0/1/7, cancel and timeout, and that
 * nothing is left behind. The inline HTTP executor, which runs a call rather
 * than a command, is held to the same cancel and timeout rules at the end.
 */
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { FakeArgo, FakeKubernetes } from "@flotilla/fakes";
import { InvalidArgumentError } from "@flotilla/protocol";
import { processesMatching } from "@flotilla/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArgoRunner } from "./argo-runner.js";
import { DockerRunner } from "./docker-runner.js";
import { FakeProviderJobRunner } from "./fixtures/fake-provider-runner.js";
import { kubeConfigFor } from "./fixtures/kubeconfig.js";
import { startPodmanService, TEST_IMAGE } from "./fixtures/podman.js";
import { HttpExecutor, HttpTaskStoppedError } from "./http-executor.js";
import { KubernetesRunner } from "./kubernetes-runner.js";
import { LocalRunner } from "./local-runner.js";
import { ProviderRunner } from "./provider-runner.js";
import type { LogLine, SandboxRunner, SandboxRunRequest } from "./sandbox-runner.js";

/** One environment under test. */
interface Environment {
  readonly runner: SandboxRunner;
  /** Names of the objects the environment still holds for Flotilla. */
  readonly leftovers: () => Promise<string[]>;
  readonly teardown: () => Promise<void>;
}

const fastRetries = { maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 1000 };

/** Set in every request's environment to a value unique to the environment under test, so /proc shows what its commands left. */
const MARKER_VARIABLE = "FLOTILLA_CONFORMANCE_MARKER";

const environments: Record<string, (marker: string) => Promise<Environment>> = {
  local: async (marker) => ({
    runner: new LocalRunner({ killGraceMs: 500 }),
    // Everything a command starts inherits its environment, so the marker finds grandchildren too.
    leftovers: async () => processesMatching(marker, { inEnvironment: true }).map((p) => `pid ${p.pid}: ${p.cmdline}`),
    teardown: async () => {},
  }),
  "local-docker": async () => {
    const podman = await startPodmanService();
    const runner = new DockerRunner({ socketPath: podman.socketPath, pull: "never" });
    // Only this suite's containers: the local-docker runner's own suite shares the Podman storage.
    const ours = async () => (await runner.listManaged()).filter((r) => r.jobId?.startsWith("conformance/"));
    for (const leftover of await ours()) await runner.deleteManaged(leftover.name);
    return { runner, leftovers: async () => (await ours()).map((r) => r.name), teardown: () => podman.stop() };
  },
  kubernetes: async () => {
    const fake = await new FakeKubernetes({ startDelayMs: 100 }).start();
    const runner = new KubernetesRunner({
      kubeConfig: kubeConfigFor(fake.url),
      namespace: "default",
      pollIntervalMs: 50,
      failedRetentionMs: 0,
      retryPolicy: fastRetries,
    });
    return { runner, leftovers: async () => fake.podNames(), teardown: () => fake.close() };
  },
  ephemeral: async () => {
    const fake = await new FakeArgo({ startDelayMs: 100 }).start();
    const runner = new ArgoRunner({
      baseUrl: fake.url,
      namespace: "argo",
      pollIntervalMs: 50,
      retryPolicy: fastRetries,
    });
    // Finished workflows stay until their TTL (300 s) by design; only running ones count as leftovers.
    return {
      runner,
      leftovers: async () => fake.workflowNames().filter((name) => fake.phaseOf("argo", name) === "Running"),
      teardown: () => fake.close(),
    };
  },
  "provider-ephemeral": async () => {
    const fake = new FakeProviderJobRunner("fake");
    const runner = new ProviderRunner({
      providerName: "fake",
      runner: fake,
      pollIntervalMs: 30,
      retryPolicy: fastRetries,
    });
    return { runner, leftovers: async () => fake.runningJobs(), teardown: async () => fake.close() };
  },
};

describe.each(Object.keys(environments))("SandboxRunner conformance: %s", (kind) => {
  let env: Environment;
  const runId = `${Date.now()}`;
  const marker = `conformance-${kind}-${randomUUID()}`;
  const request = (jobId: string, script: string, extra: Partial<SandboxRunRequest> = {}): SandboxRunRequest => ({
    image: TEST_IMAGE,
    command: ["sh", "-c", script],
    env: { GREETING: "hello", [MARKER_VARIABLE]: marker },
    jobIdentity: { jobId: `conformance/${kind}/${jobId}/${runId}` },
    ...extra,
  });

  beforeAll(async () => {
    const setup = environments[kind];
    if (!setup) throw new Error(`no environment ${kind}`);
    env = await setup(marker);
  }, 600_000);
  afterAll(async () => {
    await env?.teardown();
  });

  it("refuses an empty command with an InvalidArgumentError naming the runner, before it starts anything", async () => {
    const error = await env.runner.run(request("empty", "", { command: [] })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toBe(
      `${env.runner.kind} runner: command is empty; give at least the program to run`,
    );
  });

  it.each([0, 1, 7])("streams the command's output and returns its exit code %i", async (code) => {
    const lines: LogLine[] = [];
    const result = await env.runner.run(
      request(`exit-${code}`, `echo "$GREETING from the job"; echo second line; exit ${code}`),
      {
        onLog: (line) => lines.push(line),
      },
    );
    expect(result).toMatchObject({ exitCode: code, reason: "exited" });
    expect(lines.filter((l) => l.stream !== "system").map((l) => l.text)).toEqual([
      "hello from the job",
      "second line",
    ]);
    expect(result.finishedAt.getTime()).toBeGreaterThanOrEqual(result.startedAt.getTime());
    expect(await env.leftovers()).toEqual([]);
  });

  it("cancel stops a running command promptly and leaves nothing running", async () => {
    const controller = new AbortController();
    const started = Date.now();
    const result = await env.runner.run(request("cancel", "echo started; sleep 60; echo never"), {
      signal: controller.signal,
      onLog: (line) => {
        if (line.text === "started") controller.abort();
      },
    });
    expect(result).toMatchObject({ reason: "cancelled", exitCode: 130 });
    expect(Date.now() - started).toBeLessThan(30_000);
    await expect.poll(() => env.leftovers(), { timeout: 10_000 }).toEqual([]);
  });

  it("cancel also stops what the command started in the background, though it holds none of the output", async () => {
    const controller = new AbortController();
    const result = await env.runner.run(
      request("cancel-background", "sleep 60 </dev/null >/dev/null 2>&1 & echo started; wait; echo never"),
      {
        signal: controller.signal,
        onLog: (line) => {
          if (line.text === "started") controller.abort();
        },
      },
    );
    expect(result).toMatchObject({ reason: "cancelled", exitCode: 130 });
    await expect.poll(() => env.leftovers(), { timeout: 10_000 }).toEqual([]);
  });

  it("timeout stops a command that runs too long", async () => {
    const lines: LogLine[] = [];
    const result = await env.runner.run(request("timeout", "echo started; sleep 60; echo never", { timeoutMs: 2500 }), {
      onLog: (line) => lines.push(line),
    });
    expect(result).toMatchObject({ reason: "timeout", exitCode: 124 });
    expect(lines.map((l) => l.text)).not.toContain("never");
    expect(result.finishedAt.getTime() - result.startedAt.getTime()).toBeLessThan(30_000);
    await expect.poll(() => env.leftovers(), { timeout: 10_000 }).toEqual([]);
  });
});

describe("HttpExecutor under the same cancel and timeout rules", () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url === "/ok") {
        response.writeHead(200, { "content-type": "text/plain" });
        response.end("hello from the endpoint");
      } else {
        // Never answers: only cancel or timeout ends the call.
        response.writeHead(200);
        response.write("partial");
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("returns the response body of a successful call", async () => {
    const result = await new HttpExecutor().execute({ method: "GET", url: `${base}/ok` });
    expect(result.status).toBe(200);
    expect(new TextDecoder().decode(result.body)).toBe("hello from the endpoint");
  });

  it("cancel aborts the call in flight", async () => {
    const controller = new AbortController();
    const pending = new HttpExecutor().execute({ method: "GET", url: `${base}/hang` }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    await expect(pending).rejects.toBeInstanceOf(HttpTaskStoppedError);
    await expect(pending).rejects.toMatchObject({ reason: "cancelled" });
  });

  it("timeout aborts the call in flight", async () => {
    await expect(
      new HttpExecutor().execute({ method: "GET", url: `${base}/hang`, timeoutMs: 300 }),
    ).rejects.toMatchObject({
      name: "HttpTaskStoppedError",
      reason: "timeout",
    });
  });
});
