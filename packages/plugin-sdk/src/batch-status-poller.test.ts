import { Code, FlotillaError, InternalError, UnavailableError } from "@flotilla/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { BatchStatusPoller, type BatchStatusPollerOptions } from "./batch-status-poller.js";

interface Ref {
  id: string;
  region: string;
}
interface Status {
  id: string;
  state: "running" | "done";
}

/**
 * A fake API that reads many jobs per call: it knows some jobs, records every call, and fails the calls
 * of a region it is told to fail.
 */
class FakeApi {
  readonly jobs = new Map<string, Status["state"]>();
  readonly calls: Ref[][] = [];
  failRegion: string | undefined;

  readonly fetch = async (refs: Ref[]): Promise<Map<string, Status>> => {
    this.calls.push(refs);
    await new Promise((resolve) => setImmediate(resolve));
    if (refs.some((r) => r.region === this.failRegion)) throw new Error(`${this.failRegion} is down`);
    const found = new Map<string, Status>();
    // Answers in its own order, not the order asked.
    for (const ref of [...refs].reverse()) {
      const state = this.jobs.get(ref.id);
      if (state) found.set(ref.id, { id: ref.id, state });
    }
    return found;
  };
}

const pollers: BatchStatusPoller<Ref, Status>[] = [];
afterEach(() => {
  for (const p of pollers.splice(0)) p.stop();
});

function poller(api: FakeApi, extra: Partial<BatchStatusPollerOptions<Ref, Status>> = {}) {
  let now = 0;
  const p = new BatchStatusPoller<Ref, Status>({
    fetch: api.fetch,
    keyOf: (ref) => ref.id,
    groupOf: (ref) => ref.region,
    isFinished: (status) => status.state === "done",
    batchSize: 2,
    // Long enough that the background loop never runs during a test: tests poll with pollOnce().
    intervalMs: 60_000,
    describeError: (err) => new UnavailableError(`status call failed: ${(err as Error).message}`),
    now: () => now,
    ...extra,
  });
  pollers.push(p);
  return { poller: p, advance: (ms: number) => (now += ms), setNow: (ms: number) => (now = ms) };
}

const ref = (id: string, region = "eu") => ({ id, region });

describe("BatchStatusPoller", () => {
  it("answers each handle in the order asked, in calls of at most batchSize jobs of one group", async () => {
    const api = new FakeApi();
    for (const id of ["a", "b", "c", "d", "e"]) api.jobs.set(id, "running");
    const { poller: p } = poller(api);
    const refs = [ref("a"), ref("b", "us"), ref("c"), ref("d"), ref("e", "us")];
    const lookups = await p.lookup(refs);
    expect(lookups).toEqual(refs.map((r) => ({ kind: "found", status: { id: r.id, state: "running" } })));
    // 3 in "eu" → 2 calls, 2 in "us" → 1 call; never more than 2 jobs, never two regions in a call.
    expect(api.calls).toHaveLength(3);
    for (const call of api.calls) {
      expect(call.length).toBeLessThanOrEqual(2);
      expect(new Set(call.map((r) => r.region)).size).toBe(1);
    }
  });

  it("gives each job of a failed call its own error, and the jobs of other calls their status", async () => {
    const api = new FakeApi();
    for (const id of ["a", "b", "c"]) api.jobs.set(id, "running");
    api.failRegion = "us";
    const { poller: p } = poller(api);
    const lookups = await p.lookup([ref("a"), ref("b", "us"), ref("gone"), ref("c", "us")]);
    expect(lookups.map((l) => l.kind)).toEqual(["found", "error", "missing", "error"]);
    expect(lookups[1]).toMatchObject({ error: { code: Code.Unavailable, message: "status call failed: us is down" } });
    // A failure is not cached: the next lookup asks again, and gets the job once the API is back.
    api.failRegion = undefined;
    expect((await p.lookup([ref("b", "us")]))[0]).toEqual({ kind: "found", status: { id: "b", state: "running" } });
  });

  it("without describeError keeps a contract error and turns anything else into INTERNAL", async () => {
    const denied = new FlotillaError(Code.PermissionDenied, "no");
    const failures: unknown[] = [denied, new Error("socket hang up")];
    const p = new BatchStatusPoller<Ref, Status>({
      fetch: () => Promise.reject(failures.shift()),
      keyOf: (r) => r.id,
      isFinished: () => false,
      batchSize: 10,
      intervalMs: 60_000,
    });
    pollers.push(p);
    expect((await p.lookup([ref("a")]))[0]).toEqual({ kind: "error", error: denied });
    const [lookup] = await p.lookup([ref("a")]);
    expect(lookup).toMatchObject({ kind: "error", error: { message: "status poll failed: socket hang up" } });
    expect((lookup as { error: unknown }).error).toBeInstanceOf(InternalError);
  });

  it("shares one call among every caller asking in the same turn, the same job included", async () => {
    const api = new FakeApi();
    api.jobs.set("a", "running");
    api.jobs.set("b", "running");
    const { poller: p } = poller(api, { batchSize: 100 });
    const [first, second, third] = await Promise.all([
      p.lookup([ref("a")]),
      p.lookup([ref("b"), ref("a")]),
      p.lookup([ref("a")]),
    ]);
    expect(api.calls.map((c) => c.map((r) => r.id))).toEqual([["a", "b"]]);
    expect(first?.[0]).toEqual({ kind: "found", status: { id: "a", state: "running" } });
    expect(second?.map((l) => (l.kind === "found" ? l.status.id : l.kind))).toEqual(["b", "a"]);
    expect(third).toEqual(first);
  });

  it("answers from the cache inside the freshness window, and a finished job from the cache forever", async () => {
    const api = new FakeApi();
    api.jobs.set("run", "running");
    api.jobs.set("end", "done");
    const { poller: p, advance } = poller(api);
    await p.lookup([ref("run"), ref("end")]);
    advance(60_000);
    await p.lookup([ref("run"), ref("end")]);
    expect(api.calls).toHaveLength(1);
    advance(1);
    api.jobs.set("run", "done");
    const lookups = await p.lookup([ref("run"), ref("end")]);
    expect(api.calls.map((c) => c.map((r) => r.id))).toEqual([["run", "end"], ["run"]]);
    expect(lookups[0]).toEqual({ kind: "found", status: { id: "run", state: "done" } });
    // maxAgeMs < 0 asks the API for an unfinished job even if it was cached this very moment.
    api.jobs.set("new", "running");
    await p.lookup([ref("new")]);
    await p.lookup([ref("new")], -1);
    expect(api.calls).toHaveLength(4);
  });

  it("answers a primed job without a call, and asks again once it is invalidated", async () => {
    const api = new FakeApi();
    api.jobs.set("a", "running");
    const { poller: p } = poller(api);
    p.prime("a", { id: "a", state: "running" });
    await p.lookup([ref("a")]);
    expect(api.calls).toHaveLength(0);
    p.invalidate("a");
    await p.lookup([ref("a")]);
    expect(api.calls).toHaveLength(1);
  });

  it("keeps at most cacheLimit statuses, dropping the oldest", async () => {
    const api = new FakeApi();
    for (const id of ["a", "b", "c"]) api.jobs.set(id, "done");
    const { poller: p } = poller(api, { cacheLimit: 2 });
    await p.lookup([ref("a"), ref("b"), ref("c")]);
    api.calls.length = 0;
    await p.lookup([ref("b"), ref("c")]);
    expect(api.calls).toHaveLength(0);
    await p.lookup([ref("a")]);
    expect(api.calls.map((c) => c.map((r) => r.id))).toEqual([["a"]]);
  });

  it("polls the tracked, unfinished jobs and lets go of finished and missing ones", async () => {
    const api = new FakeApi();
    api.jobs.set("a", "running");
    api.jobs.set("b", "running");
    const seen: string[] = [];
    const { poller: p } = poller(api, { onUnfinished: (status, r) => seen.push(`${status.id}@${r.region}`) });
    p.track(ref("a"));
    p.track(ref("b"));
    p.track(ref("never"));
    await p.pollOnce();
    expect(seen).toEqual(["a@eu", "b@eu"]);
    expect(p.trackedCount).toBe(2);
    api.jobs.set("a", "done");
    await p.pollOnce();
    expect(seen).toEqual(["a@eu", "b@eu", "b@eu"]);
    expect(p.trackedCount).toBe(1);
    // Each poll asked the API, though the statuses were fresh: polling is what refreshes them.
    expect(api.calls.map((c) => c.map((r) => r.id))).toEqual([["a", "b"], ["never"], ["a", "b"]]);
  });

  it("tracks the unfinished jobs a lookup finds", async () => {
    const api = new FakeApi();
    api.jobs.set("a", "running");
    api.jobs.set("b", "done");
    const { poller: p } = poller(api);
    await p.lookup([ref("a"), ref("b")]);
    expect(p.trackedCount).toBe(1);
  });
});

describe("BatchStatusPoller right after a job was started", () => {
  it("does not call a job the API does not show yet missing during the grace period", async () => {
    const api = new FakeApi();
    const { poller: p, setNow } = poller(api, {
      missingGraceMs: 30_000,
      startingStatus: (r) => ({ id: r.id, state: "running" }),
    });
    p.started(ref("primed"), 0);
    p.prime("primed", { id: "primed", state: "running" });
    p.started(ref("bare"), 0);
    setNow(30_000);
    const lookups = await p.lookup([ref("primed"), ref("bare")], -1);
    expect(lookups).toEqual([
      { kind: "found", status: { id: "primed", state: "running" } },
      { kind: "found", status: { id: "bare", state: "running" } },
    ]);
    // Not cached: the next lookup asks again, and past the grace period the job is missing.
    setNow(30_001);
    expect((await p.lookup([ref("bare")]))[0]).toEqual({ kind: "missing" });
    expect(api.calls).toHaveLength(2);
  });

  it("forgets the grace once the API has shown the job", async () => {
    const api = new FakeApi();
    api.jobs.set("a", "running");
    const { poller: p } = poller(api);
    p.started(ref("a"), 0);
    await p.lookup([ref("a")], -1);
    api.jobs.delete("a");
    expect((await p.lookup([ref("a")], -1))[0]).toEqual({ kind: "missing" });
  });

  it("without a startingStatus answers an unprimed invisible job with a retriable error", async () => {
    const api = new FakeApi();
    const { poller: p } = poller(api);
    p.started(ref("a"), 0);
    const [lookup] = await p.lookup([ref("a")]);
    expect(lookup).toMatchObject({ kind: "error", error: { code: Code.Unavailable } });
    expect((lookup as { error: FlotillaError }).error.message).toMatch(/^job a was started 0 ms ago and the API/);
  });
});

describe("BatchStatusPoller's options", () => {
  it.each([
    [{ batchSize: 0 }, /batchSize must be a whole number >= 1, got 0/],
    [{ intervalMs: 0 }, /intervalMs must be a finite number > 0, got 0/],
  ])("refuses %o", (extra, message) => {
    expect(() => poller(new FakeApi(), extra)).toThrow(message);
  });
});
