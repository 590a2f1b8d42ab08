import { describe, expect, it } from "vitest";
import { RunClock } from "./run-clock.js";

describe("RunClock", () => {
  it("fires with reason timeout when the timeout passes first", async () => {
    const clock = new RunClock(undefined, 30);
    await new Promise((resolve) => clock.signal.addEventListener("abort", resolve));
    expect(clock.stoppedOutcome()).toMatchObject({ reason: "timeout", exitCode: 124 });
    clock.dispose();
  });

  it("does not fire a timeout past Node's 24.8-day timer limit at once", async () => {
    const clock = new RunClock(undefined, 597 * 3_600_000);
    // A plain setTimeout would fire after 1 ms; give it a hundred times that.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(clock.signal.aborted).toBe(false);
    clock.dispose();
  });

  it("fires with reason cancelled when the caller aborts first, and keeps the first reason", () => {
    const caller = new AbortController();
    const clock = new RunClock(caller.signal, 60_000);
    caller.abort();
    expect(clock.signal.aborted).toBe(true);
    expect(clock.stoppedOutcome()).toMatchObject({ reason: "cancelled", exitCode: 130 });
    clock.dispose();
  });

  it("is stopped from the start when the caller's signal has already aborted", () => {
    expect(new RunClock(AbortSignal.abort(), undefined).stopReason).toBe("cancelled");
  });
});
