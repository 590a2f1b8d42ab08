import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FakeArgo } from "./fake-argo.js";

const workflow = (name: string, command: string[], ttl?: number) => ({
  workflow: {
    metadata: { name, labels: { team: "a" } },
    spec: {
      entrypoint: "main",
      ...(ttl !== undefined ? { ttlStrategy: { secondsAfterCompletion: ttl } } : {}),
      templates: [{ name: "main", container: { image: "busybox", command } }],
    },
  },
});

/** The parts of a Workflow, WorkflowList or error body these tests read. */
interface WorkflowView {
  code?: number;
  metadata: { name: string };
  items: WorkflowView[] | null;
  status: { phase: string; nodes: Record<string, { type: string; outputs: { exitCode: string } }> };
}
const view = async (response: Response | Promise<Response>): Promise<WorkflowView> =>
  (await (await response).json()) as WorkflowView;

describe("FakeArgo over the Argo server HTTP API", () => {
  let fake: FakeArgo;
  const api = (path: string, init?: RequestInit) => fetch(`${fake.url}/api/v1/workflows/argo${path}`, init);
  const submit = (body: unknown) => api("", { method: "POST", body: JSON.stringify(body) });
  const phase = async (name: string) => (await view(api(`/${name}`))).status.phase;

  beforeEach(async () => {
    fake = await new FakeArgo({ startDelayMs: 400 }).start();
  });
  afterEach(async () => {
    await fake.close();
  });

  it("runs a workflow to Failed and reports the pod node's exit code in outputs.exitCode", async () => {
    expect((await submit(workflow("w1", ["sh", "-c", "exit 7"]))).status).toBe(200);
    expect(await phase("w1")).toBe("Pending");
    await expect.poll(() => phase("w1")).toBe("Failed");
    const nodes = Object.values((await view(api("/w1"))).status.nodes);
    expect(nodes).toEqual([expect.objectContaining({ type: "Pod", outputs: { exitCode: "7" } })]);
  });

  it("serves logs as newline-delimited {result:{content,podName}}, following while the workflow runs", async () => {
    await submit(workflow("w2", ["sh", "-c", "echo one; sleep 0.2; echo two"]));
    await expect.poll(() => phase("w2")).toBe("Running");
    const text = await (await api("/w2/log?logOptions.container=main&logOptions.follow=true")).text();
    expect(
      text
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line)),
    ).toEqual([{ result: { content: "one", podName: "w2" } }, { result: { content: "two", podName: "w2" } }]);
  });

  it("answers 409 for a duplicate name and 404 for an unknown one with grpc-gateway error bodies", async () => {
    await submit(workflow("w3", ["true"]));
    const duplicate = await submit(workflow("w3", ["true"]));
    expect([duplicate.status, (await view(duplicate)).code]).toEqual([409, 6]);
    const missing = await api("/nope");
    expect([missing.status, (await view(missing)).code]).toEqual([404, 5]);
  });

  it("lists by label selector (null items when none), deletes, and expires by ttlStrategy", async () => {
    await submit(workflow("w4", ["true"], 0));
    await submit(workflow("w5", ["sleep", "30"]));
    const listed = await view(api("?listOptions.labelSelector=team%3Da"));
    expect((listed.items ?? []).map((w) => w.metadata.name).sort()).toEqual(["w4", "w5"]);
    expect((await view(api("?listOptions.labelSelector=team%3Db"))).items).toBeNull();
    await expect.poll(() => fake.expiredByTtl).toEqual(["w4"]);
    expect((await api("/w5", { method: "DELETE" })).status).toBe(200);
    expect(fake.workflowNames()).toEqual([]);
  });

  it("simulates failed log fetches", async () => {
    await submit(workflow("w6", ["true"]));
    fake.failLogs = true;
    expect((await api("/w6/log?logOptions.container=main")).status).toBe(500);
  });
});
