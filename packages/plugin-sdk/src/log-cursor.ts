/**
 * The cursor a plugin puts in every LogLine, so a caller can resume right
 * after any line: an opaque string to the caller, a position in a paged log
 * to the plugin. Cloud log APIs hand out page tokens, and a page holds many
 * lines, so a position is the token of the page a line came from plus how
 * many entries of that page were consumed. The string carries a format
 * version: a plugin reading a cursor of a format it does not know says so
 * instead of resuming at the wrong place.
 */
import { InvalidArgumentError } from "@flotilla/protocol";

/** Where a reader is in a paged log. */
export interface LogPosition {
  /** The token of the page being read; undefined is the head of the log. */
  readonly token: string | undefined;
  /** How many entries of that page were already consumed. */
  readonly skip: number;
}

/** The position of an empty cursor: the head of the log. */
export const LOG_HEAD: LogPosition = Object.freeze({ token: undefined, skip: 0 });

/** The format version cursors are written in; a decoder refuses a higher one. */
export const LOG_CURSOR_VERSION = 1;

/** Encodes a position as the opaque string LogLine.cursor carries. */
export function encodeLogCursor(position: LogPosition): string {
  if (!(Number.isSafeInteger(position.skip) && position.skip >= 0)) {
    throw new RangeError(`encodeLogCursor: skip must be a whole number >= 0, got ${position.skip}`);
  }
  const body = { v: LOG_CURSOR_VERSION, t: position.token ?? null, n: position.skip };
  return Buffer.from(JSON.stringify(body)).toString("base64url");
}

/** Options of {@link decodeLogCursor}. */
export interface DecodeLogCursorOptions {
  /** The plugin's name, e.g. "aws": errors say which plugin the cursor was meant for. */
  readonly issuer: string;
  /** The field the cursor came in; default "JobLogsRequest.cursor". */
  readonly field?: string;
}

/**
 * Decodes LogLine.cursor back into a position; the empty string is the head
 * of the log. Anything this function did not encode is refused with an
 * InvalidArgumentError naming the field and what to pass instead.
 */
export function decodeLogCursor(cursor: string, options: DecodeLogCursorOptions): LogPosition {
  const field = options.field ?? "JobLogsRequest.cursor";
  if (cursor === "") return LOG_HEAD;
  let body: { v?: unknown; t?: unknown; n?: unknown } | undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (typeof parsed === "object" && parsed !== null) body = parsed;
  } catch {
    // Not ours: refused below.
  }
  if (body && typeof body.v === "number" && body.v > LOG_CURSOR_VERSION) {
    throw new InvalidArgumentError(
      `${field}: written in cursor format ${body.v}, newer than the ${options.issuer} plugin reads (up to ${LOG_CURSOR_VERSION}); resume with the plugin version that issued it, or pass an empty cursor to start at the beginning`,
    );
  }
  const { v, t, n } = body ?? {};
  if (
    v === LOG_CURSOR_VERSION &&
    (t === null || typeof t === "string") &&
    Number.isSafeInteger(n) &&
    (n as number) >= 0
  ) {
    return { token: t ?? undefined, skip: n as number };
  }
  throw new InvalidArgumentError(
    `${field}: not a cursor the ${options.issuer} plugin issued; pass a LogLine.cursor from an earlier JobLogs stream, or empty to start at the beginning`,
  );
}
