import { describe, expect, it } from "vitest";
import { isServerKind } from "./server-kinds.js";

describe("isServerKind", () => {
  it("accepts the three server kinds and nothing else", () => {
    expect(["raw-http2", "grpc-js", "connect"].every(isServerKind)).toBe(true);
    expect(isServerKind("toString")).toBe(false);
    expect(isServerKind(undefined)).toBe(false);
  });
});
