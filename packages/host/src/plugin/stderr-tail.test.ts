import { describe, expect, it } from "vitest";
import { StderrTail } from "./stderr-tail.js";

describe("StderrTail", () => {
  it("keeps only the last lines, cutting long ones", () => {
    const tail = new StderrTail(2, 5);
    tail.push("one");
    tail.push("two");
    tail.push("three-and-more");
    expect(tail.snapshot()).toEqual(["two", "three…"]);
  });
});
