/**
 * An error the GCP fake answers with: a gRPC status code and message, as
 * Google APIs send them (google.rpc.Status over gRPC), so the client raises
 * its `GoogleError` with the same `code` the real service would produce.
 */
import { status as GrpcStatus } from "@grpc/grpc-js";

/** A gRPC status the fake sends instead of a response. */
export class GcpApiError extends Error {
  constructor(
    /** The gRPC status code, e.g. `status.ALREADY_EXISTS`. */
    readonly code: GrpcStatus,
    message: string,
  ) {
    super(message);
    this.name = "GcpApiError";
  }

  /** INVALID_ARGUMENT: the request breaks a published rule. */
  static invalid(message: string): GcpApiError {
    return new GcpApiError(GrpcStatus.INVALID_ARGUMENT, message);
  }

  /** NOT_FOUND for a resource name. */
  static notFound(what: string, name: string): GcpApiError {
    return new GcpApiError(GrpcStatus.NOT_FOUND, `${what} "${name}" was not found.`);
  }
}

export { GrpcStatus };
