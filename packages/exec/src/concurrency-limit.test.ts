import { describe, expect, it } from "vitest";
import { ConcurrencyLimitedRunner } from "./concurrency-limit.js";
import type { SandboxRunner, SandboxRunRequest, SandboxRunResult } from "./sandbox-runner.js";

/** A runner whose runs finish when the test says so. */
class GatedRunner implements SandboxRunner {
  readonly kind = "gated";
  readonly started: string[] = [];
  readonly #release = new Map<string, () => void>();

  run(request: SandboxRunRequest): Promise<SandboxRunResult> {
    const id = request.jobIdentity.jobId;
    this.started.push(id);
    return new Promise((resolve) => {
      this.#release.set(id, () =>
        resolve({
          exitCode: 0,
          reason: "exited",
          message: "",
          startedAt: new Date(),
          finishedAt: new Date(),
          runName: id,
          reused: false,
        }),
      );
    });
  }

  finish(id: string): void {
    this.#release.get(id)?.();
  }
}

const request = (jobId: string): SandboxRunRequest => ({ command: ["true"], jobIdentity: { jobId } });
const tick = () => new Promise((resolve) => setTimeout(resolve, 10));

describe("ConcurrencyLimitedRunner", () => {
  it("queues runs beyond the limit instead of failing them, in arrival order", async () => {
    const inner = new GatedRunner();
    const limited = new ConcurrencyLimitedRunner(inner, 2);
    const runs = ["a", "b", "c", "d"].map((id) => limited.run(request(id)));
    await tick();
    expect(inner.started).toEqual(["a", "b"]);
    expect([limited.active, limited.queued]).toEqual([2, 2]);
    inner.finish("b");
    await tick();
    expect(inner.started).toEqual(["a", "b", "c"]);
    inner.finish("a");
    inner.finish("c");
    await tick();
    inner.finish("d");
    expect((await Promise.all(runs)).map((r) => r.exitCode)).toEqual([0, 0, 0, 0]);
    expect([limited.active, limited.queued]).toEqual([0, 0]);
  });

  it("a run cancelled while queued leaves the queue without starting", async () => {
    const inner = new GatedRunner();
    const limited = new ConcurrencyLimitedRunner(inner, 1);
    const first = limited.run(request("first"));
    const controller = new AbortController();
    const queued = limited.run(request("queued"), { signal: controller.signal });
    await tick();
    controller.abort();
    await expect(queued).resolves.toMatchObject({ reason: "cancelled", exitCode: 130 });
    inner.finish("first");
    await first;
    expect(inner.started).toEqual(["first"]);
    expect(limited.queued).toBe(0);
  });

  it("rejects a limit below 1", () => {
    expect(() => new ConcurrencyLimitedRunner(new GatedRunner(), 0)).toThrow(
      "max_concurrent must be a whole number of at least 1, got 0",
    );
  });
});
