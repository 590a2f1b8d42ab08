import { describe, expect, it } from "vitest";
import { FakeOperations, type OperationState } from "./operations.js";

const parent = "projects/p/locations/us-central1";

describe("FakeOperations", () => {
  it("re-evaluates an operation on each poll until it is done, then keeps its final state", () => {
    const operations = new FakeOperations();
    let state: OperationState = { done: false, metadata: { type: "Job", message: { name: "j" } } };
    const started = operations.start(parent, () => state);
    expect(started).toMatchObject({
      done: false,
      metadata: { typeUrl: "type.googleapis.com/google.cloud.run.v2.Job" },
    });
    expect(started.result).toBeUndefined();
    state = { ...state, done: true, response: { type: "Execution", message: { name: "e" } } };
    expect(operations.get(started.name)).toMatchObject({
      done: true,
      result: "response",
      response: { typeUrl: "type.googleapis.com/google.cloud.run.v2.Execution" },
    });
    state = { done: false, metadata: state.metadata };
    expect(operations.get(started.name).done).toBe(true);
  });

  it("carries an error instead of a response, lists by location in pages and forgets deleted operations", () => {
    const operations = new FakeOperations();
    const failed = operations.start(parent, () => ({
      done: true,
      metadata: { type: "Job", message: {} },
      error: { code: 9, message: "no" },
    }));
    expect(failed).toMatchObject({ result: "error", error: { code: 9, message: "no" } });
    operations.start("projects/p/locations/europe-west1", () => ({
      done: true,
      metadata: { type: "Job", message: {} },
    }));
    expect(operations.list(parent, 0, "").operations.map((o) => o.name)).toEqual([failed.name]);
    operations.delete(failed.name);
    expect(() => operations.get(failed.name)).toThrow(/was not found/);
  });
});
