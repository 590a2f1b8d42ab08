import { NotFoundError } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import { codeOf, duration, failureOf, waitFor } from "./conformance-check.js";

describe("the conformance suite's shared readers", () => {
  it("says durations as a report reads them", () => {
    expect(duration(10_000)).toBe("10 s");
    expect(duration(1_500)).toBe("1.5 s");
    expect(duration(200)).toBe("200 ms");
  });

  it("names an error by its wire code and the plugin's message", () => {
    expect(codeOf(new NotFoundError("job j-1 is gone"))).toBe("NOT_FOUND (job j-1 is gone)");
    expect(codeOf(new Error("socket closed"))).toBe("Error: socket closed");
  });

  it("turns a call that should fail into its error, or undefined when it answered", async () => {
    const error = new NotFoundError("gone");
    expect(await failureOf(Promise.reject(error))).toBe(error);
    expect(await failureOf(Promise.resolve({}))).toBeUndefined();
  });

  it("waits for a condition, and gives up after the bound", async () => {
    let polls = 0;
    expect(await waitFor(() => ++polls === 3, 10_000)).toBe(true);
    expect(polls).toBe(3);
    expect(await waitFor(() => false, 200)).toBe(false);
  });
});
