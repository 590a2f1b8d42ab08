/**
 * Translates Google client errors into the contract's error classes. The
 * Google clients report gRPC status codes (google-gax's `GoogleError.code`,
 * the same numbers as `@flotilla/protocol`'s `Code`), so the class follows the
 * code; the message says which call failed and keeps the service's words, and
 * the original error stays reachable as `cause`.
 */
import { Code, errorForCode, type FlotillaError, isFlotillaError, UnauthenticatedError } from "@flotilla/protocol";

/** The error to raise for a failed Google API call named `operation` (e.g. "Cloud Run ListLocations"). */
export function translateGcpError(err: unknown, operation: string): FlotillaError {
  if (isFlotillaError(err)) return err;
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  const text = typeof message === "string" && message !== "" ? message : String(err);
  if (typeof code === "number" && Number.isInteger(code) && code in Code && code !== 0)
    return errorForCode(code as Code, `${operation} failed: ${text}`, { cause: err });
  // google-auth-library's Application Default Credentials search fails without a status code.
  if (/default credentials|Could not load the default credentials|invalid_grant|No access, refresh token/i.test(text))
    return new UnauthenticatedError(
      `${operation} failed: ${text}. Give the gcp provider credentials (Application Default Credentials, e.g. GOOGLE_APPLICATION_CREDENTIALS, or a service-account key reference in its config)`,
      { cause: err },
    );
  return errorForCode(Code.Unavailable, `${operation} failed: ${text}`, { cause: err });
}
