import { Metadata, status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { FlotillaError, ResourceExhaustedError } from "../errors.js";
import { errorFromServiceError, isServiceError, statusMetadata } from "./status-error.js";

function serviceError(code: number, details: string, metadata = new Metadata()) {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata });
}

describe("status errors", () => {
  it("recognises grpc-js status errors only", () => {
    expect(isServiceError(serviceError(5, "x"))).toBe(true);
    expect(isServiceError(new Error("x"))).toBe(false);
    expect(isServiceError({ code: 5, details: "x" })).toBe(false);
  });

  it("keeps the caller's metadata and drops transport headers and binary values", () => {
    const md = new Metadata();
    md.set("retry-after", "3");
    md.set("content-type", "application/grpc");
    md.set("trace-bin", Buffer.from([1, 2]));
    expect(statusMetadata(serviceError(8, "slow down", md))).toEqual({ "retry-after": "3" });
  });

  it("maps to the class of the code, keeping the original as cause; unknown codes stay FlotillaError", () => {
    const original = serviceError(status.RESOURCE_EXHAUSTED, "quota");
    const err = errorFromServiceError(original);
    expect(err).toBeInstanceOf(ResourceExhaustedError);
    expect(err.retriable).toBe(true);
    expect(err.cause).toBe(original);
    const odd = errorFromServiceError(serviceError(99, "odd"));
    expect(odd).toBeInstanceOf(FlotillaError);
    expect(odd.message).toBe("odd");
  });
});
