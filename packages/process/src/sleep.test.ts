import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { sleep } from "./sleep.js";

describe("sleep", () => {
  it("resolves once the delay has passed", async () => {
    await expect(sleep(5)).resolves.toBeUndefined();
  });

  it("stops waiting when the signal aborts, rejecting with its reason", async () => {
    const controller = new AbortController();
    const waiting = sleep(60_000, controller.signal);
    controller.abort(new Error("stop"));
    await expect(waiting).rejects.toThrow("stop");
  });

  it("rejects at once for a signal that has already aborted", async () => {
    await expect(sleep(60_000, AbortSignal.abort(new Error("gone")))).rejects.toThrow("gone");
  });

  it("leaves no listener on the signal once it has slept", async () => {
    const controller = new AbortController();
    await sleep(1, controller.signal);
    expect(getEventListeners(controller.signal, "abort")).toEqual([]);
  });
});
