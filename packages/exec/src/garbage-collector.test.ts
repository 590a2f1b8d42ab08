import { FakeKubernetes } from "@flotilla/fakes";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { kubeConfigFor } from "./fixtures/kubeconfig.js";
import {
  type CollectableEnvironment,
  type CollectionRecord,
  GarbageCollector,
  type ManagedResource,
} from "./garbage-collector.js";
import { JOB_ID_ANNOTATION } from "./job-names.js";
import { KubernetesRunner } from "./kubernetes-runner.js";

/** An environment holding a fixed list, recording deletions. */
class ListedEnvironment implements CollectableEnvironment {
  readonly kind = "listed";
  readonly deleted: string[] = [];
  constructor(
    private readonly resources: ManagedResource[],
    private readonly failing: readonly string[] = [],
  ) {}
  async listManaged(): Promise<ManagedResource[]> {
    return this.resources.filter((r) => !this.deleted.includes(r.name));
  }
  async deleteManaged(name: string): Promise<void> {
    if (this.failing.includes(name)) throw new Error(`cannot delete ${name}`);
    this.deleted.push(name);
  }
}

const now = new Date("2026-11-23T10:00:00Z");
const minutesAgo = (minutes: number) => new Date(now.getTime() - minutes * 60_000);

describe("GarbageCollector", () => {
  it("removes orphans, succeeded runs and failed runs past retention; keeps the rest", async () => {
    const environment = new ListedEnvironment([
      { name: "orphan-running", jobId: "gone", state: "running" },
      { name: "unlabelled", state: "failed", finishedAt: minutesAgo(1) },
      { name: "known-running", jobId: "live", state: "running" },
      { name: "known-succeeded", jobId: "live", state: "succeeded", finishedAt: minutesAgo(1) },
      { name: "failed-recent", jobId: "live", state: "failed", finishedAt: minutesAgo(5) },
      { name: "failed-old", jobId: "live", state: "failed", finishedAt: minutesAgo(90) },
    ]);
    const collector = new GarbageCollector({
      environments: new Map([["k8s", environment]]),
      isJobKnown: async (jobId) => jobId === "live",
      failedRetentionMs: 60 * 60_000,
      now: () => now,
    });
    expect(await collector.collect()).toEqual([
      { environment: "k8s", name: "orphan-running", reason: "orphaned" },
      { environment: "k8s", name: "unlabelled", reason: "orphaned" },
      { environment: "k8s", name: "known-succeeded", reason: "succeeded" },
      { environment: "k8s", name: "failed-old", reason: "failed-retention-expired" },
    ]);
    expect(await collector.collect()).toEqual([]);
  });

  it("reports a failed deletion and carries on with the other environments", async () => {
    const stuck = new ListedEnvironment([{ name: "stuck", jobId: "gone", state: "running" }], ["stuck"]);
    const broken: CollectableEnvironment = {
      kind: "broken",
      listManaged: async () => {
        throw new Error("API unreachable");
      },
      deleteManaged: async () => {},
    };
    const fine = new ListedEnvironment([{ name: "leftover", jobId: "gone", state: "succeeded" }]);
    const collector = new GarbageCollector({
      environments: new Map<string, CollectableEnvironment>([
        ["a", stuck],
        ["b", broken],
        ["c", fine],
      ]),
      isJobKnown: () => false,
    });
    expect(await collector.collect()).toEqual([
      { environment: "a", name: "stuck", reason: "orphaned", error: "cannot delete stuck" },
      { environment: "b", name: "*", reason: "orphaned", error: "listing failed: API unreachable" },
      { environment: "c", name: "leftover", reason: "orphaned" },
    ]);
  });

  it("sweeps periodically once started, until stopped", async () => {
    const environment = new ListedEnvironment([{ name: "orphan", jobId: "gone", state: "running" }]);
    const collector = new GarbageCollector({ environments: new Map([["e", environment]]), isJobKnown: () => false });
    const passes: CollectionRecord[][] = [];
    vi.useFakeTimers();
    try {
      collector.start(20, (records) => passes.push(records));
      await vi.advanceTimersByTimeAsync(19);
      expect(passes).toHaveLength(0);
      await vi.advanceTimersByTimeAsync(1);
      expect(passes).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(20);
      expect(passes).toHaveLength(2);
      collector.stop();
      await vi.advanceTimersByTimeAsync(60_000);
      expect(passes).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
    expect(passes[0]).toEqual([{ environment: "e", name: "orphan", reason: "orphaned" }]);
    expect(passes[1]).toEqual([]);
  });

  describe("against the fake Kubernetes API through the real client", () => {
    let fake: FakeKubernetes;
    beforeEach(async () => {
      fake = await new FakeKubernetes().start();
    });
    afterEach(async () => {
      await fake.close();
    });

    it("deletes Flotilla's Pods whose job is unknown and leaves everyone else's alone", async () => {
      const runner = new KubernetesRunner({
        kubeConfig: kubeConfigFor(fake.url),
        namespace: "default",
        pollIntervalMs: 30,
      });
      const managed = { "app.kubernetes.io/managed-by": "flotilla" };
      fake.seedPod("default", "flt-orphan", managed, { [JOB_ID_ANNOTATION]: "deleted-job" }, ["sleep", "30"]);
      fake.seedPod("default", "flt-live", managed, { [JOB_ID_ANNOTATION]: "live-job" }, ["sleep", "30"]);
      fake.seedPod("default", "not-ours", { app: "web" }, {}, ["sleep", "30"]);
      const collector = new GarbageCollector({
        environments: new Map([["k8s", runner]]),
        isJobKnown: (id) => id === "live-job",
      });
      expect(await collector.collect()).toEqual([{ environment: "k8s", name: "flt-orphan", reason: "orphaned" }]);
      expect(fake.podNames().sort()).toEqual(["flt-live", "not-ours"]);
    });
  });
});
