/**
 * gRPC failures as Flotilla errors: a grpc-js status error becomes the
 * FlotillaError subclass of its code (NotFoundError, UnavailableError, …),
 * with the original error — code, details, metadata — as `cause`.
 */

import type { ServiceError } from "@grpc/grpc-js";
import { type FlotillaError, fromStatus } from "../errors.js";

/** Metadata keys grpc-js or HTTP/2 add that are not the plugin's error context. */
const transportKeys = new Set(["content-type", "date", "grpc-status", "grpc-message", "grpc-status-details-bin"]);

/** True for a grpc-js status error (has a numeric code and details). */
export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === "number" && "details" in err;
}

/** The string-valued metadata of a status error, without transport headers. */
export function statusMetadata(err: ServiceError): Record<string, string> {
  const out: Record<string, string> = {};
  const map = err.metadata?.getMap() ?? {};
  for (const [k, v] of Object.entries(map)) {
    if (transportKeys.has(k) || k.endsWith("-bin")) continue;
    out[k] = typeof v === "string" ? v : Buffer.from(v).toString("utf8");
  }
  return out;
}

/** Maps a grpc-js status error to the matching FlotillaError; `cause` is the original. */
export function errorFromServiceError(err: ServiceError): FlotillaError {
  return fromStatus({ code: err.code, details: err.details, metadata: statusMetadata(err) }, err);
}
