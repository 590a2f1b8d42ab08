import { describe, expect, it } from "vitest";
import { AwsFaults, FaultInjector } from "./faults.js";

describe("FaultInjector", () => {
  it("fails exactly the next N calls of the operation, in order", () => {
    const faults = new FaultInjector();
    faults.inject("RunTask", AwsFaults.throttling, 2);
    faults.inject("*", AwsFaults.serverError, 1);
    expect(faults.take("DescribeTasks")).toBe(AwsFaults.serverError);
    expect(faults.take("RunTask")).toBe(AwsFaults.throttling);
    expect(faults.take("RunTask")).toBe(AwsFaults.throttling);
    expect(faults.take("RunTask")).toBeUndefined();
  });

  it("clear removes pending faults, including unlimited ones", () => {
    const faults = new FaultInjector();
    faults.inject("*", AwsFaults.accessDenied, Number.POSITIVE_INFINITY);
    expect(faults.take("X")).toBe(AwsFaults.accessDenied);
    faults.clear();
    expect(faults.take("X")).toBeUndefined();
  });
});
