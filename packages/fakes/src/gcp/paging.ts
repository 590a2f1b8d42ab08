/**
 * Page tokens for the GCP fake's List methods. A token is opaque to clients
 * (base64url JSON here) and binds the request it continues: Google's List
 * methods require "All other parameters must match" (Cloud Run v2
 * `ListJobsRequest.page_token`) and "The values of other method parameters
 * should be identical to those in the previous call" (Logging v2
 * `ListLogEntriesRequest.page_token`), so a token replayed with another
 * parent or filter is INVALID_ARGUMENT.
 */
import { createHash } from "node:crypto";
import { GcpApiError } from "./api-error.js";

/** What a page token carries. */
export interface PagePosition<Cursor> {
  /** Where the next page starts. */
  cursor: Cursor;
  /** When the token was issued, on the fake's clock. */
  issuedAt: number;
}

interface TokenBody<Cursor> extends PagePosition<Cursor> {
  scope: string;
}

/** A short fingerprint of the request parameters a token is bound to. */
export function requestScope(...parts: unknown[]): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("base64url").slice(0, 16);
}

/** Makes a page token bound to `scope`. */
export function encodePageToken<Cursor>(scope: string, position: PagePosition<Cursor>): string {
  const body: TokenBody<Cursor> = { scope, ...position };
  return Buffer.from(JSON.stringify(body)).toString("base64url");
}

/** Reads a page token; INVALID_ARGUMENT when it is garbage or was issued for other parameters. */
export function decodePageToken<Cursor>(token: string, scope: string): PagePosition<Cursor> {
  let body: TokenBody<Cursor>;
  try {
    body = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as TokenBody<Cursor>;
  } catch {
    throw GcpApiError.invalid(`Invalid page token "${token}".`);
  }
  if (typeof body !== "object" || body === null || body.scope !== scope)
    throw GcpApiError.invalid(
      "The page token does not match the request: a page token must be used with the same parameters as the call that returned it.",
    );
  return { cursor: body.cursor, issuedAt: body.issuedAt };
}
