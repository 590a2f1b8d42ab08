import { describe, expect, it } from "vitest";
import { RunClock } from "./run-clock.js";

describe("RunClock", () => {
  it("fires with reason timeout when the timeout passes first", async () => {
    const clock = new RunClock(undefined, 30);
    await new Promise((resolve) => clock.signal.addEventListener("abort", resolve));
    expect(clock.stoppedOutcome()).toMatchObject({ reason: "timeout", exitCode: 124 });
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
