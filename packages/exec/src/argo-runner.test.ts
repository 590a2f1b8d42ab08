import { FakeArgo } from "@flotilla/fakes";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ArgoClient } from "./argo-client.js";
import { ArgoRunner } from "./argo-runner.js";
import type { LogLine } from "./sandbox-runner.js";

describe("ArgoRunner (ephemeral) against the fake Argo server", () => {
  let fake: FakeArgo;
  let runner: ArgoRunner;

  beforeEach(async () => {
    fake = await new FakeArgo({ startDelayMs: 100 }).start();
    runner = new ArgoRunner({
      baseUrl: fake.url,
      token: "argo-bearer-token",
      namespace: "argo",
      pollIntervalMs: 50,
      retryPolicy: { maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 1500 },
    });
  });
  afterEach(async () => {
    await fake.close();
  });

  it("submits a single-container workflow with entrypoint main and the default TTL of 300 s", async () => {
    const lines: LogLine[] = [];
    const result = await runner.run(
      { image: "busybox:1", command: ["sh", "-c", "echo hello; exit 7"], jobIdentity: { jobId: "report" } },
      { onLog: (line) => lines.push(line) },
    );
    expect(result).toMatchObject({ exitCode: 7, reason: "exited" });
    expect(lines).toEqual([{ stream: "stdout", text: "hello" }]);
    const submit = fake.requests.find((r) => r.method === "POST");
    expect(submit?.url).toBe("/api/v1/workflows/argo");
    expect(submit?.headers.authorization).toBe("Bearer argo-bearer-token");
    const workflow = JSON.parse(submit?.body ?? "{}").workflow;
    expect(workflow.spec.entrypoint).toBe("main");
    expect(workflow.spec.templates).toHaveLength(1);
    expect(workflow.spec.ttlStrategy).toEqual({ secondsAfterCompletion: 300 });
    const logRequest = fake.requests.find((r) => r.url.includes("/log"));
    expect(new URL(logRequest?.url ?? "", fake.url).searchParams.get("logOptions.container")).toBe("main");
  });

  it("lets Argo remove finished workflows by TTL", async () => {
    const ttlRunner = new ArgoRunner({
      baseUrl: fake.url,
      namespace: "argo",
      pollIntervalMs: 20,
      ttlSecondsAfterCompletion: 1,
    });
    const result = await ttlRunner.run({ image: "busybox:1", command: ["true"], jobIdentity: { jobId: "ttl" } });
    expect(result.exitCode).toBe(0);
    expect(fake.workflowNames()).toEqual([result.runName]);
    await expect.poll(() => fake.expiredByTtl, { timeout: 10_000 }).toEqual([result.runName]);
    expect(fake.workflowNames()).toEqual([]);
  });

  it("reports a workflow that vanished before its outcome was read as failed, saying so", async () => {
    const ttlRunner = new ArgoRunner({
      baseUrl: fake.url,
      namespace: "argo",
      pollIntervalMs: 300,
      ttlSecondsAfterCompletion: 0,
    });
    const result = await ttlRunner.run({ image: "busybox:1", command: ["true"], jobIdentity: { jobId: "vanished" } });
    expect(result).toMatchObject({ reason: "failed", exitCode: 1 });
    expect(result.message).toContain("disappeared before its outcome was read");
  });

  it("turns a failed log fetch into a warning line, not a failed job", async () => {
    fake.failLogs = true;
    const lines: LogLine[] = [];
    const result = await runner.run(
      { image: "busybox:1", command: ["sh", "-c", "echo hidden"], jobIdentity: { jobId: "no-logs" } },
      { onLog: (line) => lines.push(line) },
    );
    expect(result).toMatchObject({ exitCode: 0, reason: "exited" });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.stream).toBe("system");
    expect(lines[0]?.text).toMatch(/^warning: could not fetch the log of workflow flt-no-logs-/);
  });

  it("on cancel aborts the in-flight status call at once and deletes the workflow", async () => {
    const controller = new AbortController();
    const lines: LogLine[] = [];
    const pending = runner.run(
      { image: "busybox:1", command: ["sleep", "30"], jobIdentity: { jobId: "cancel-me" } },
      { signal: controller.signal, onLog: (line) => lines.push(line) },
    );
    await expect.poll(() => fake.phaseOf("argo", fake.workflowNames()[0] ?? ""), { timeout: 10_000 }).toBe("Running");
    // Every status call now hangs for a minute: only aborting it in flight returns promptly.
    fake.statusDelayMs = 60_000;
    const statusCalls = () => fake.requests.filter((r) => r.method === "GET" && !r.url.includes("/log")).length;
    const callsBefore = statusCalls();
    // Wait until a status call is in flight (hanging), so the cancel has to abort it.
    await expect.poll(statusCalls, { timeout: 10_000 }).toBeGreaterThan(callsBefore);
    const before = Date.now();
    controller.abort();
    const result = await pending;
    expect(Date.now() - before).toBeLessThan(10_000);
    expect(result).toMatchObject({ reason: "cancelled", exitCode: 130 });
    await expect.poll(() => fake.abortedStatusCalls, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(
      fake.requests.some((r) => r.method === "DELETE" && r.url === `/api/v1/workflows/argo/${result.runName}`),
    ).toBe(true);
    expect(fake.workflowNames()).toEqual([]);
    expect(lines.filter((l) => l.stream === "system")).toEqual([]);
  });

  it("re-dispatching after a lost submit response follows the existing workflow: exactly one run", async () => {
    fake.faults.loseNextCreateResponses(1);
    const result = await runner.run({ image: "busybox:1", command: ["true"], jobIdentity: { jobId: "lost" } });
    expect(result).toMatchObject({ exitCode: 0, reused: true });
    expect(fake.workflowsCreated).toBe(1);
  });

  it("maps phase Error without an exit code to a failed run with Argo's message", async () => {
    const pending = runner.run({ image: "busybox:1", command: ["sleep", "30"], jobIdentity: { jobId: "error-phase" } });
    await expect.poll(() => fake.phaseOf("argo", fake.workflowNames()[0] ?? ""), { timeout: 10_000 }).toBe("Running");
    fake.errorWorkflow("argo", fake.workflowNames()[0] ?? "", "pod deleted");
    const result = await pending;
    expect(result).toMatchObject({ exitCode: 1, reason: "failed" });
    expect(result.message).toBe("workflow ended in phase Error: pod deleted");
  });

  describe("a workflow whose pod cannot start: bounded by pendingTimeoutMs even without a run timeout", () => {
    const stuckRunner = (pendingTimeoutMs: number) =>
      new ArgoRunner({ baseUrl: fake.url, namespace: "argo", pollIntervalMs: 50, pendingTimeoutMs });

    it("fails a missing Secret (workflow Running, node Pending) with Argo's node message, and deletes the workflow", async () => {
      const result = await stuckRunner(600).run({
        image: "busybox:1",
        command: ["true"],
        secretEnv: { TOKEN: "secret://missing/token" },
        jobIdentity: { jobId: "no-secret" },
      });
      expect(result).toMatchObject({ exitCode: 1, reason: "failed" });
      expect(result.message).toMatch(
        /^workflow flt-no-secret-[0-9a-f]+ could not start its pod for 600 ms: CreateContainerConfigError: secret "missing" not found; create the Secrets .*, or raise pending_timeout_seconds\. The workflow was deleted/,
      );
      expect(fake.workflowNames()).toEqual([]);
    });

    it("fails an image that cannot be pulled, and deletes the workflow", async () => {
      const pulling = await new FakeArgo({ unpullableImages: ["ghcr.io/acme/missing:1"] }).start();
      try {
        const result = await new ArgoRunner({
          baseUrl: pulling.url,
          namespace: "argo",
          pollIntervalMs: 50,
          pendingTimeoutMs: 600,
        }).run({ image: "ghcr.io/acme/missing:1", command: ["true"], jobIdentity: { jobId: "no-image" } });
        expect(result).toMatchObject({ exitCode: 1, reason: "failed" });
        expect(result.message).toMatch(
          /could not start its pod for 600 ms: (ErrImagePull|ImagePullBackOff): .*missing:1/,
        );
        expect(pulling.workflowNames()).toEqual([]);
      } finally {
        await pulling.close();
      }
    });

    it("runs the job once the missing Secret is created within the bound", async () => {
      const lines: LogLine[] = [];
      const pending = stuckRunner(30_000).run(
        {
          image: "busybox:1",
          command: ["sh", "-c", "echo started"],
          secretEnv: { TOKEN: "secret://late/token" },
          jobIdentity: { jobId: "late-secret" },
        },
        { onLog: (line) => lines.push(line) },
      );
      await expect.poll(() => fake.phaseOf("argo", fake.workflowNames()[0] ?? ""), { timeout: 10_000 }).toBe("Running");
      fake.secrets.set("argo/late", { token: "t" });
      expect(await pending).toMatchObject({ exitCode: 0, reason: "exited" });
      expect(lines).toEqual([{ stream: "stdout", text: "started" }]);
    });
  });

  it("waits out throttling with Retry-After and does not retry a 400", async () => {
    fake.faults.throttleNext(2, 1);
    const ok = await runner.run({ image: "busybox:1", command: ["true"], jobIdentity: { jobId: "throttled" } });
    expect(ok.exitCode).toBe(0);
    const posts = () => fake.requests.filter((r) => r.method === "POST").length;
    expect(posts()).toBe(3);
    const before = posts();
    const client = new ArgoClient({
      baseUrl: fake.url,
      retryPolicy: { maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 100 },
    });
    const invalid = { metadata: { name: "bad" }, spec: { entrypoint: "nope", templates: [] } };
    await expect(client.createWorkflow("argo", invalid)).rejects.toMatchObject({ name: "ArgoApiError", status: 400 });
    expect(posts()).toBe(before + 1);
  });
});
