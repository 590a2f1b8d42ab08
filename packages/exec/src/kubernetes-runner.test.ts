import { FakeKubernetes } from "@flotilla/fakes";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { kubeConfigFor } from "./fixtures/kubeconfig.js";
import { JOB_ID_ANNOTATION, MANAGED_SELECTOR } from "./job-names.js";
import { KubernetesRunner } from "./kubernetes-runner.js";
import type { LogLine } from "./sandbox-runner.js";

describe("KubernetesRunner against the fake API server", () => {
  let fake: FakeKubernetes;
  let runner: KubernetesRunner;

  beforeEach(async () => {
    fake = await new FakeKubernetes({ startDelayMs: 150, unpullableImages: ["ghcr.io/acme/missing:1"] }).start();
    runner = new KubernetesRunner({
      kubeConfig: kubeConfigFor(fake.url),
      namespace: "default",
      pollIntervalMs: 50,
      failedRetentionMs: 60_000,
      retryPolicy: { maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 1500 },
    });
  });
  afterEach(async () => {
    await fake.close();
  });

  it("creates a labelled Pod, follows its log and returns the container's real exit code", async () => {
    const lines: LogLine[] = [];
    const result = await runner.run(
      {
        image: "busybox:1",
        command: ["sh", "-c", "echo one; echo two >&2; exit 7"],
        jobIdentity: { jobId: "Nightly Report/2026-11-23" },
        labels: { team: "data" },
      },
      { onLog: (line) => lines.push(line) },
    );
    expect(result).toMatchObject({ exitCode: 7, reason: "exited", reused: false });
    expect(lines.map((l) => l.text)).toEqual(["one", "two"]);
    const created = fake.requests.find((r) => r.method === "POST");
    const pod = JSON.parse(created?.body ?? "{}");
    expect(pod.metadata.name).toBe(result.runName);
    expect(pod.metadata.name).toMatch(/^flt-nightly-report-2026-11-23-[0-9a-f]{10}$/);
    expect(pod.metadata.labels).toMatchObject({ team: "data", "app.kubernetes.io/managed-by": "flotilla" });
    expect(pod.metadata.annotations[JOB_ID_ANNOTATION]).toBe("Nightly Report/2026-11-23");
    expect(pod.spec.restartPolicy).toBe("Never");
    // A failed Pod is kept for its retention period, for inspection.
    expect(fake.podNames()).toEqual([result.runName]);
  });

  it("deletes a succeeded Pod at once", async () => {
    const result = await runner.run({ image: "busybox:1", command: ["true"], jobIdentity: { jobId: "ok" } });
    expect(result.exitCode).toBe(0);
    expect(fake.podNames()).toEqual([]);
  });

  it("re-dispatching after a lost create response follows the existing Pod: exactly one run", async () => {
    fake.faults.loseNextCreateResponses(1);
    const result = await runner.run({
      image: "busybox:1",
      command: ["sh", "-c", "echo once"],
      jobIdentity: { jobId: "lost" },
    });
    expect(result).toMatchObject({ exitCode: 0, reused: true });
    expect(fake.podsCreated).toBe(1);
    expect(fake.requests.filter((r) => r.method === "POST")).toHaveLength(2);
  });

  it("waits out throttling (429 with Retry-After) instead of failing", async () => {
    fake.faults.throttleNext(2, 1, "GET");
    const result = await runner.run({ image: "busybox:1", command: ["true"], jobIdentity: { jobId: "throttled" } });
    expect(result.exitCode).toBe(0);
    expect(fake.requests.filter((r) => r.method === "GET").length).toBeGreaterThan(2);
  });

  it("turns a failed log fetch into a warning line, not a failed job", async () => {
    fake.failLogs = true;
    const lines: LogLine[] = [];
    const result = await runner.run(
      { image: "busybox:1", command: ["sh", "-c", "echo hidden; exit 7"], jobIdentity: { jobId: "no-logs" } },
      { onLog: (line) => lines.push(line) },
    );
    expect(result).toMatchObject({ exitCode: 7, reason: "exited" });
    expect(lines).toEqual([
      {
        stream: "system",
        text: expect.stringMatching(/^warning: could not fetch the log of Pod flt-no-logs-[0-9a-f]+: HTTP 500/),
      },
    ]);
  });

  it("on cancel aborts the API call in flight, deletes the Pod and reports cancelled", async () => {
    const controller = new AbortController();
    const pending = runner.run(
      { image: "busybox:1", command: ["sleep", "30"], jobIdentity: { jobId: "cancel-me" } },
      {
        signal: controller.signal,
      },
    );
    await expect.poll(() => fake.podNames().length, { timeout: 10_000 }).toBe(1);
    // Every Pod read now hangs for a minute: only aborting it in flight frees the connection.
    fake.readDelayMs = 60_000;
    const reads = () => fake.requests.filter((r) => r.method === "GET" && !r.url.includes("/log")).length;
    const before = reads();
    await expect.poll(reads, { timeout: 10_000 }).toBeGreaterThan(before);
    controller.abort();
    const result = await pending;
    expect(result).toMatchObject({ reason: "cancelled", exitCode: 130 });
    await expect.poll(() => fake.abortedReads, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(fake.podNames()).toEqual([]);
  });

  it("reports an image that cannot be pulled as a failed run naming the reason", async () => {
    const result = await runner.run({
      image: "ghcr.io/acme/missing:1",
      command: ["true"],
      jobIdentity: { jobId: "bad-image" },
    });
    expect(result).toMatchObject({ reason: "failed", exitCode: 1 });
    expect(result.message).toContain("ErrImagePull");
  });

  it("passes secret:// references as secretKeyRef; the value never crosses the host's wire", async () => {
    const secretValue = "s3cr3t-value-9f8e7d";
    fake.secrets.set("default/db", { password: secretValue });
    const lines: LogLine[] = [];
    const result = await runner.run(
      {
        image: "busybox:1",
        command: ["sh", "-c", 'case "$DB_PASSWORD" in s3cr3t-*-9f8e7d) echo resolved;; esac'],
        secretEnv: { DB_PASSWORD: "secret://db/password" },
        jobIdentity: { jobId: "secret" },
      },
      { onLog: (line) => lines.push(line) },
    );
    expect(lines.map((l) => l.text)).toEqual(["resolved"]);
    expect(result.exitCode).toBe(0);
    const pod = JSON.parse(fake.requests.find((r) => r.method === "POST")?.body ?? "{}");
    for (const request of fake.requests) expect(request.body).not.toContain(secretValue);
    expect(pod.spec.containers[0].env).toEqual([
      { name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "db", key: "password" } } },
    ]);
  });

  it("refuses a label key the API server would refuse, with a clear error and before any request", async () => {
    const run = runner.run({
      image: "busybox:1",
      command: ["true"],
      jobIdentity: { jobId: "bad-label" },
      labels: { team: "data", "cost center": "42" },
    });
    await expect(run).rejects.toThrow(
      /^kubernetes runner: label key "cost center" is invalid: its name part must consist of letters, digits, '-', '_' or '\.'.*rename the key in request\.labels/,
    );
    expect(fake.requests).toEqual([]);
    expect(fake.podsCreated).toBe(0);
  });

  it("lists only Flotilla's Pods for the garbage collector, with their job ids", async () => {
    fake.seedPod("default", "someone-elses", { app: "other" });
    fake.seedPod(
      "default",
      "flt-orphan",
      { "app.kubernetes.io/managed-by": "flotilla" },
      { [JOB_ID_ANNOTATION]: "gone" },
    );
    const managed = await runner.listManaged();
    expect(managed.map((m) => [m.name, m.jobId])).toEqual([["flt-orphan", "gone"]]);
    expect(new URL(fake.requests.at(-1)?.url ?? "", fake.url).searchParams.get("labelSelector")).toBe(MANAGED_SELECTOR);
  });
});
