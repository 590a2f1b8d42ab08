import { describe, expect, it } from "vitest";
import { RestartPolicy } from "./restart-policy.js";

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("RestartPolicy", () => {
  it("doubles the delay per crash within the window and caps it", () => {
    const c = clock();
    const p = new RestartPolicy(
      { initialDelayMs: 100, maxDelayMs: 350, jitter: 0, maxCrashes: 10 },
      Math.random,
      c.now,
    );
    const delays = [1, 2, 3, 4].map(() => {
      const d = p.recordCrash();
      c.advance(1);
      return d.action === "restart" ? d.delayMs : -1;
    });
    expect(delays).toEqual([100, 200, 350, 350]);
  });

  it("spreads the delay by the jitter fraction both ways", () => {
    const low = new RestartPolicy({ initialDelayMs: 1000, jitter: 0.5 }, () => 0).recordCrash();
    const high = new RestartPolicy({ initialDelayMs: 1000, jitter: 0.5 }, () => 0.999999).recordCrash();
    expect(low).toMatchObject({ action: "restart", delayMs: 500 });
    expect(high).toMatchObject({ action: "restart", delayMs: 1500 });
  });

  it("gives up on the n-th crash within the window and forgets crashes outside it", () => {
    const c = clock();
    const p = new RestartPolicy({ maxCrashes: 3, windowMs: 10_000, jitter: 0 }, Math.random, c.now);
    expect(p.recordCrash().action).toBe("restart");
    c.advance(11_000);
    expect(p.recordCrash()).toMatchObject({ action: "restart", crashesInWindow: 1, delayMs: 250 });
    c.advance(100);
    expect(p.recordCrash()).toMatchObject({ action: "restart", crashesInWindow: 2 });
    c.advance(100);
    expect(p.recordCrash()).toEqual({ action: "give-up", reason: "crash-loop", crashesInWindow: 3 });
  });

  it("never restarts when disabled", () => {
    expect(new RestartPolicy({ enabled: false }).recordCrash()).toMatchObject({
      action: "give-up",
      reason: "disabled",
    });
  });
});
