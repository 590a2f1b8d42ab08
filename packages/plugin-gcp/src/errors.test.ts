import {
  AlreadyExistsError,
  FailedPreconditionError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
} from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import { translateGcpError } from "./errors.js";

describe("translateGcpError", () => {
  it("picks the contract class from the gRPC code the Google client reports, naming the call and keeping the cause", () => {
    const cases: Array<[number, new (...args: never[]) => Error]> = [
      [5, NotFoundError],
      [6, AlreadyExistsError],
      [7, PermissionDeniedError],
      [8, ResourceExhaustedError],
      [9, FailedPreconditionError],
      [14, UnavailableError],
      [16, UnauthenticatedError],
    ];
    for (const [code, ErrorClass] of cases) {
      const original = Object.assign(new Error(`${code} STATUS: details`), { code });
      const translated = translateGcpError(original, "Cloud Run GetJob");
      expect(translated).toBeInstanceOf(ErrorClass);
      expect(translated.message).toBe(`Cloud Run GetJob failed: ${code} STATUS: details`);
      expect(translated.cause).toBe(original);
    }
  });

  it("turns a failed credential search into Unauthenticated that says how to give credentials", () => {
    const translated = translateGcpError(
      new Error("Could not load the default credentials."),
      "Cloud Run ListLocations",
    );
    expect(translated).toBeInstanceOf(UnauthenticatedError);
    expect(translated.message).toMatch(/Application Default Credentials/);
  });

  it("treats an error without a status code as the service being unreachable", () => {
    expect(translateGcpError(new Error("socket hang up"), "Cloud Logging ListLogEntries")).toBeInstanceOf(
      UnavailableError,
    );
  });
});
