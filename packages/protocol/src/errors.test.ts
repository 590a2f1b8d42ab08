import { describe, expect, it } from "vitest";
import {
  AlreadyExistsError,
  Code,
  codeName,
  DeadlineExceededError,
  FailedPreconditionError,
  FlotillaError,
  fromStatus,
  InvalidArgumentError,
  isFlotillaError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  toStatus,
  UnauthenticatedError,
  UnavailableError,
  UnimplementedError,
} from "./errors.js";

const classes = [
  [Code.NotFound, NotFoundError],
  [Code.AlreadyExists, AlreadyExistsError],
  [Code.ResourceExhausted, ResourceExhaustedError],
  [Code.Unavailable, UnavailableError],
  [Code.DeadlineExceeded, DeadlineExceededError],
  [Code.Unauthenticated, UnauthenticatedError],
  [Code.PermissionDenied, PermissionDeniedError],
  [Code.InvalidArgument, InvalidArgumentError],
  [Code.FailedPrecondition, FailedPreconditionError],
  [Code.Unimplemented, UnimplementedError],
] as const;

describe("error model", () => {
  it.each(classes)("code %i survives error → status → error as the same class", (code, ErrorClass) => {
    const original = new ErrorClass("thing went wrong", { metadata: { resource: "cluster/x" } });
    expect(original.code).toBe(code);
    const status = toStatus(original);
    expect(status).toEqual({ code, details: "thing went wrong", metadata: { resource: "cluster/x" } });
    const back = fromStatus(status);
    expect(back).toBeInstanceOf(ErrorClass);
    expect(back).toBeInstanceOf(FlotillaError);
    expect(isFlotillaError(back, code)).toBe(true);
    expect(back.cause).toBe(status);
    expect(back.metadata).toEqual({ resource: "cluster/x" });
  });

  it("turns a plain Error into INTERNAL keeping its message", () => {
    expect(toStatus(new Error("boom"))).toEqual({ code: Code.Internal, details: "boom" });
    expect(toStatus("text")).toEqual({ code: Code.Internal, details: "text" });
  });

  it("maps unknown wire codes to UNKNOWN", () => {
    const err = fromStatus({ code: 99, details: "?" });
    expect(err.code).toBe(Code.Unknown);
  });

  it("marks only transient codes as retriable", () => {
    expect(new UnavailableError("x").retriable).toBe(true);
    expect(new ResourceExhaustedError("x").retriable).toBe(true);
    expect(new InvalidArgumentError("x").retriable).toBe(false);
  });

  it("spells codes as gRPC does", () => {
    expect(codeName(Code.NotFound)).toBe("NOT_FOUND");
    expect(codeName(Code.DeadlineExceeded)).toBe("DEADLINE_EXCEEDED");
  });
});
