import { FakeKubernetes } from "@flotilla/fakes";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { kubeConfigFor } from "./fixtures/kubeconfig.js";
import { JOB_ID_ANNOTATION, MANAGED_SELECTOR } from "./job-names.js";
import { KubernetesRunner } from "./kubernetes-runner.js";
import type { LogLine } from "./sandbox-runner.js";

/** The parts of a Pod these tests read straight from the fake. */
interface PodView {
  status: { phase: string; containerStatuses?: { state?: { waiting?: { reason?: string } } }[] };
}

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

  describe("a Pod that cannot start: wait while the kubelet retries, at most pendingTimeoutMs, then delete it", () => {
    const stuckRunner = (pendingTimeoutMs: number) =>
      new KubernetesRunner({
        kubeConfig: kubeConfigFor(fake.url),
        namespace: "default",
        pollIntervalMs: 50,
        failedRetentionMs: 60_000,
        pendingTimeoutMs,
      });
    const waitingReason = async (): Promise<string | undefined> => {
      const name = fake.podNames()[0];
      if (!name) return undefined;
      const pod = (await (await fetch(`${fake.url}/api/v1/namespaces/default/pods/${name}`)).json()) as PodView;
      return pod.status.containerStatuses?.[0]?.state?.waiting?.reason;
    };

    it("runs the job once an image pull that was backing off succeeds", async () => {
      const pending = stuckRunner(30_000).run({
        image: "ghcr.io/acme/missing:1",
        command: ["sh", "-c", "echo pulled at last"],
        jobIdentity: { jobId: "pull-recovers" },
      });
      await expect.poll(waitingReason, { timeout: 10_000 }).toBe("ImagePullBackOff");
      fake.makePullable("ghcr.io/acme/missing:1");
      expect(await pending).toMatchObject({ exitCode: 0, reason: "exited" });
    });

    it("fails an image that stays unpullable, naming the reason, and deletes the Pod so it cannot start later", async () => {
      const result = await stuckRunner(600).run({
        image: "ghcr.io/acme/missing:1",
        command: ["true"],
        jobIdentity: { jobId: "bad-image" },
      });
      expect(result).toMatchObject({ reason: "failed", exitCode: 1 });
      expect(result.message).toMatch(
        /^Pod flt-bad-image-[0-9a-f]+ could not start its container for 600 ms: (ErrImagePull|ImagePullBackOff) \(.*ghcr\.io\/acme\/missing:1.*\); check that the image exists .*, or raise pending_timeout_seconds\. The Pod was deleted/,
      );
      expect(fake.podNames()).toEqual([]);
    });

    it("runs the job once a missing Secret (CreateContainerConfigError) is created", async () => {
      const pending = stuckRunner(30_000).run({
        image: "busybox:1",
        command: ["sh", "-c", 'echo "got $TOKEN"'],
        secretEnv: { TOKEN: "secret://late/token" },
        jobIdentity: { jobId: "late-secret" },
      });
      await expect.poll(waitingReason, { timeout: 10_000 }).toBe("CreateContainerConfigError");
      fake.secrets.set("default/late", { token: "t" });
      expect(await pending).toMatchObject({ exitCode: 0, reason: "exited" });
    });

    it("bounds an Unschedulable Pod even without a run timeout", async () => {
      fake.unschedulable = "0/3 nodes are available: 3 Insufficient cpu.";
      const result = await stuckRunner(500).run({
        image: "busybox:1",
        command: ["true"],
        jobIdentity: { jobId: "nowhere" },
      });
      expect(result).toMatchObject({ reason: "failed", exitCode: 1 });
      expect(result.message).toContain(
        "could not be scheduled for 500 ms: Unschedulable (0/3 nodes are available: 3 Insufficient cpu.); free capacity",
      );
      expect(fake.podNames()).toEqual([]);
    });

    it("bounds a Pod whose phase turned Unknown even without a run timeout", async () => {
      const pending = stuckRunner(500).run({
        image: "busybox:1",
        command: ["sleep", "60"],
        jobIdentity: { jobId: "lost-node" },
      });
      await expect.poll(() => fake.podNames().length, { timeout: 10_000 }).toBe(1);
      fake.markUnknown("default", fake.podNames()[0] ?? "");
      const result = await pending;
      expect(result).toMatchObject({ reason: "failed", exitCode: 1 });
      expect(result.message).toContain(
        "stayed in phase Unknown for 500 ms: its node stopped reporting; check the node",
      );
      expect(fake.podNames()).toEqual([]);
    });
  });

  it("keeps OOMKilled in the result's message", async () => {
    const pending = runner.run({ image: "busybox:1", command: ["sleep", "60"], jobIdentity: { jobId: "oom" } });
    const running = async () => {
      const name = fake.podNames()[0];
      if (!name) return false;
      const pod = (await (await fetch(`${fake.url}/api/v1/namespaces/default/pods/${name}`)).json()) as PodView;
      return pod.status.phase === "Running";
    };
    await expect.poll(running, { timeout: 10_000 }).toBe(true);
    fake.oomKill("default", fake.podNames()[0] ?? "");
    const result = await pending;
    expect(result).toMatchObject({ exitCode: 137, reason: "exited" });
    expect(result.message).toMatch(/^OOMKilled: the container was killed for exceeding its memory limit/);
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
