import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FakeKubernetes } from "./fake-kubernetes.js";

const pod = (name: string, command: string[], extra: Record<string, unknown> = {}) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, labels: { app: "test" } },
  spec: { restartPolicy: "Never", containers: [{ name: "main", image: "busybox", command, ...extra }] },
});

/** The parts of a Pod (or PodList, or Status) these tests read. */
interface PodView {
  kind?: string;
  reason?: string;
  code?: number;
  metadata: { name: string };
  items: PodView[];
  status: {
    phase: string;
    containerStatuses: { state: { waiting?: { reason: string }; terminated?: { exitCode: number; reason: string } } }[];
  };
}
const view = async (response: Response | Promise<Response>): Promise<PodView> =>
  (await (await response).json()) as PodView;

describe("FakeKubernetes over plain HTTP", () => {
  let fake: FakeKubernetes;
  const api = (path: string, init?: RequestInit) => fetch(`${fake.url}/api/v1/namespaces/default/pods${path}`, init);
  const create = (body: unknown) =>
    api("", { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });

  beforeEach(async () => {
    fake = await new FakeKubernetes({ startDelayMs: 400, unpullableImages: ["bad:1"] }).start();
  });
  afterEach(async () => {
    await fake.close();
  });

  it("refuses a Pod whose label keys break the API server's rule with 422 Invalid", async () => {
    const bad = pod("p-bad", ["true"]);
    bad.metadata.labels = { "cost center": "1", "Example.com/x": "2", ok: "3" } as never;
    const answer = await view(create(bad));
    expect(answer).toMatchObject({ kind: "Status", reason: "Invalid", code: 422 });
    expect((answer as unknown as { message: string }).message).toMatch(
      /^Pod "p-bad" is invalid: metadata.labels: Invalid value: "cost center": name part .*, metadata.labels: Invalid value: "Example.com\/x": prefix part/,
    );
    expect(fake.podNames()).toEqual([]);
  });

  it("runs a Pod through Pending, Running and Failed with the container's real exit code", async () => {
    expect((await create(pod("p1", ["sh", "-c", "sleep 0.3; exit 7"]))).status).toBe(201);
    const first = await view(api("/p1"));
    expect(first.status.phase).toBe("Pending");
    expect(first.status.containerStatuses[0]?.state.waiting?.reason).toBe("ContainerCreating");
    await expect.poll(async () => (await view(api("/p1"))).status.phase).toBe("Running");
    await expect.poll(async () => (await view(api("/p1"))).status.phase).toBe("Failed");
    const done = await view(api("/p1"));
    expect(done.status.containerStatuses[0]?.state.terminated).toMatchObject({ exitCode: 7, reason: "Error" });
  });

  it("answers 409 AlreadyExists, 404 NotFound and 400 for logs of a waiting container as Status objects", async () => {
    await create(pod("p2", ["true"]));
    const conflict = await create(pod("p2", ["true"]));
    expect(conflict.status).toBe(409);
    expect(await view(conflict)).toMatchObject({ kind: "Status", reason: "AlreadyExists", code: 409 });
    expect((await api("/nope")).status).toBe(404);
    // A Pod whose image cannot be pulled stays waiting, however slow the machine is.
    await create(pod("waiting", ["true"], { image: "bad:1" }));
    expect((await api("/waiting/log?container=main")).status).toBe(400);
  });

  it("streams logs with follow=true until the container exits", async () => {
    await create(pod("p3", ["sh", "-c", "echo a; sleep 0.2; echo b"]));
    await expect.poll(async () => (await view(api("/p3"))).status.phase).not.toBe("Pending");
    const response = await api("/p3/log?container=main&follow=true");
    expect(await response.text()).toBe("a\nb\n");
  });

  it("lists by label selector and deletes, killing the container", async () => {
    await create(pod("p4", ["sleep", "30"]));
    await create({ ...pod("p5", ["sleep", "30"]), metadata: { name: "p5", labels: { app: "other" } } });
    const list = await view(api("?labelSelector=app%3Dtest"));
    expect(list.items.map((p) => p.metadata.name)).toEqual(["p4"]);
    expect((await api("/p4", { method: "DELETE" })).status).toBe(200);
    expect(fake.podNames()).toEqual(["p5"]);
  });

  it("resolves secretKeyRef from its secrets and reports a missing one as CreateContainerConfigError", async () => {
    fake.secrets.set("default/db", { pw: "x" });
    const env = (name: string) => [{ name: "PW", valueFrom: { secretKeyRef: { name, key: "pw" } } }];
    await create(pod("ok", ["sh", "-c", '[ "$PW" = x ]'], { env: env("db") }));
    await create(pod("missing", ["true"], { env: env("nope") }));
    await expect.poll(async () => (await view(api("/ok"))).status.phase).toBe("Succeeded");
    const missing = await view(api("/missing"));
    expect(missing.status.containerStatuses[0]?.state.waiting?.reason).toBe("CreateContainerConfigError");
  });

  it("retries a failed pull as the kubelet does (ErrImagePull, then ImagePullBackOff) until the image can be pulled", async () => {
    await create(pod("retry", ["true"], { image: "bad:1" }));
    const reasons = new Set<string | undefined>();
    const reason = async () => (await view(api("/retry"))).status.containerStatuses[0]?.state.waiting?.reason;
    await expect
      .poll(
        async () => {
          reasons.add(await reason());
          return reasons.has("ErrImagePull") && reasons.has("ImagePullBackOff");
        },
        { timeout: 10_000, interval: 10 },
      )
      .toBe(true);
    expect((await view(api("/retry"))).status.phase).toBe("Pending");
    fake.makePullable("bad:1");
    await expect.poll(async () => (await view(api("/retry"))).status.phase, { timeout: 10_000 }).toBe("Succeeded");
  });

  it("leaves a Pod no node fits Pending and Unschedulable, turns one Unknown, and reports an OOM kill", async () => {
    fake.unschedulable = "0/1 nodes are available: 1 Insufficient memory.";
    await create(pod("big", ["true"]));
    const big = (await view(api("/big"))) as unknown as { status: Record<string, unknown> };
    expect(big.status).toEqual({
      phase: "Pending",
      conditions: [
        {
          type: "PodScheduled",
          status: "False",
          reason: "Unschedulable",
          message: "0/1 nodes are available: 1 Insufficient memory.",
        },
      ],
    });
    fake.unschedulable = undefined;
    await create(pod("hog", ["sleep", "30"]));
    await expect.poll(async () => (await view(api("/hog"))).status.phase, { timeout: 10_000 }).toBe("Running");
    fake.markUnknown("default", "hog");
    expect((await view(api("/hog"))).status.phase).toBe("Unknown");
    fake.oomKill("default", "hog");
    await expect
      .poll(async () => (await view(api("/hog"))).status.containerStatuses[0]?.state.terminated, { timeout: 10_000 })
      .toMatchObject({ reason: "OOMKilled", exitCode: 137 });
  });

  it("simulates image pull failures, throttling and lost create responses", async () => {
    await create(pod("bad", ["true"], { image: "bad:1" }));
    await expect
      .poll(async () => (await view(api("/bad"))).status.containerStatuses[0]?.state.waiting?.reason, {
        timeout: 10_000,
      })
      .toBe("ErrImagePull");
    fake.faults.throttleNext(1, 2);
    const throttled = await api("/bad");
    expect([throttled.status, throttled.headers.get("retry-after")]).toEqual([429, "2"]);
    fake.faults.loseNextCreateResponses(1);
    await expect(create(pod("lost", ["true"]))).rejects.toThrow();
    expect(fake.podNames()).toContain("lost");
  });
});
