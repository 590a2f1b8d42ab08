import { describe, expect, it } from "vitest";
import {
  AlreadyExistsError,
  CanceledError,
  Code,
  codeName,
  DeadlineExceededError,
  errorForCode,
  FailedPreconditionError,
  FlotillaError,
  fromJobError,
  fromStatus,
  InternalError,
  InvalidArgumentError,
  isFlotillaError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  toJobError,
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
  [Code.Canceled, CanceledError],
  [Code.Internal, InternalError],
] as const;

/** Every code on the wire, read from the enum so a code added later is covered too. */
const allCodes = Object.values(Code).filter((v): v is Code => typeof v === "number");

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

  it("has a class for every code a caller branches on, and the base class for the rest", () => {
    const withClass = new Set<Code>(classes.map(([code]) => code));
    for (const code of allCodes) {
      const err = errorForCode(code, "m");
      expect(err.code).toBe(code);
      expect(err.constructor === FlotillaError).toBe(!withClass.has(code));
    }
  });

  it("names each error after its class, so logs and stack traces say what it is", () => {
    expect(new NotFoundError("x").name).toBe("NotFoundError");
    expect(new FlotillaError(Code.DataLoss, "x").name).toBe("FlotillaError");
  });

  // Retrying callers (status pollers, the provider runner) decide on this flag alone: a transient code
  // marked final gives up on a job that would have succeeded; a final code marked transient spins forever.
  it.each(allCodes)("marks code %i as retriable exactly when it is transient", (code) => {
    const transient = code === Code.Unavailable || code === Code.ResourceExhausted || code === Code.Aborted;
    expect(errorForCode(code, "x").retriable).toBe(transient);
  });

  it("keeps a thrown error's message, or says there was none", () => {
    expect(toStatus(new Error(""))).toEqual({
      code: Code.Internal,
      details: "plugin handler failed without a message",
    });
  });

  it("copies metadata rather than sharing the caller's object", () => {
    const metadata = { a: "1" };
    const err = new NotFoundError("x", { metadata });
    metadata.a = "2";
    expect(err.metadata).toEqual({ a: "1" });
  });

  it("keeps the cause it was given, and has none otherwise", () => {
    const cause = new Error("low-level");
    expect(new UnavailableError("x", { cause }).cause).toBe(cause);
    expect("cause" in new UnavailableError("x")).toBe(false);
  });

  it("checks the code only when one is asked for", () => {
    const err = new NotFoundError("x");
    expect(isFlotillaError(err)).toBe(true);
    expect(isFlotillaError(err, Code.AlreadyExists)).toBe(false);
    expect(isFlotillaError(new Error("x"))).toBe(false);
  });

  it("spells codes as gRPC does", () => {
    expect(codeName(Code.NotFound)).toBe("NOT_FOUND");
    expect(codeName(Code.DeadlineExceeded)).toBe("DEADLINE_EXCEEDED");
    expect(codeName(Code.Canceled)).toBe("CANCELLED");
    expect(codeName(Code.Unauthenticated)).toBe("UNAUTHENTICATED");
    expect(codeName(99 as Code)).toBe("UNKNOWN");
  });
});

describe("JobError, the per-job error of a batch call", () => {
  it.each(Object.values(Code).filter((value): value is Code => typeof value === "number"))(
    "carries code %i there and back as the single call would have thrown it",
    (code) => {
      const original = errorForCode(code, `job j1: failed with ${code}`);
      const jobError = toJobError(original);
      expect(jobError).toEqual({ code: codeName(code), message: `job j1: failed with ${code}` });
      const back = fromJobError(jobError);
      expect(back.code).toBe(code);
      expect(back.constructor).toBe(original.constructor);
      expect(back.message).toBe(original.message);
      expect(back.retriable).toBe(original.retriable);
    },
  );

  it("reports a bug in a lookup as INTERNAL with its message, like a single call", () => {
    expect(toJobError(new TypeError("x is undefined"))).toEqual({ code: "INTERNAL", message: "x is undefined" });
  });

  it("reads the names other gRPC stacks send, and turns an unknown one into Unknown", () => {
    expect(fromJobError({ code: "CANCELED", message: "m" })).toBeInstanceOf(CanceledError);
    expect(fromJobError({ code: "UNAVAILABLE", message: "m" }).retriable).toBe(true);
    const unknown = fromJobError({ code: "TEAPOT", message: "m" });
    expect(unknown.code).toBe(Code.Unknown);
    expect(unknown.retriable).toBe(false);
  });
});
