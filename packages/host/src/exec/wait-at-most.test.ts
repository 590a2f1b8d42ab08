import { describe, expect, it } from "vitest";
import { waitAtMost } from "./wait-at-most.js";

describe("waitAtMost", () => {
  it("is true for a promise that settles in time, either way", async () => {
    expect(await waitAtMost(Promise.resolve(1), 1000)).toBe(true);
    expect(await waitAtMost(Promise.reject(new Error("x")), 1000)).toBe(true);
  });

  it("is false for one that does not", async () => {
    expect(await waitAtMost(new Promise(() => {}), 20)).toBe(false);
  });
});
