/**
 * The error model shared by the Flotilla host and plugin SDK.
 *
 * One base class, {@link FlotillaError}, carries a {@link Code} (the gRPC
 * status code numbers). A subclass per code that callers commonly branch on
 * lets them write `err instanceof NotFoundError`; {@link isFlotillaError}
 * does the same by code. The plugin SDK turns a thrown error into a gRPC
 * status with {@link toStatus}; the host turns a status back into the
 * matching subclass with {@link fromStatus}, so both directions agree.
 */

/** gRPC status codes, with the same numbers as on the wire. */
export enum Code {
  Canceled = 1,
  Unknown = 2,
  InvalidArgument = 3,
  DeadlineExceeded = 4,
  NotFound = 5,
  AlreadyExists = 6,
  PermissionDenied = 7,
  ResourceExhausted = 8,
  FailedPrecondition = 9,
  Aborted = 10,
  OutOfRange = 11,
  Unimplemented = 12,
  Internal = 13,
  Unavailable = 14,
  DataLoss = 15,
  Unauthenticated = 16,
}

/**
 * The wire name of a code, e.g. `NOT_FOUND`, as gRPC spells it: the names of
 * grpc/doc/statuscodes.md and google.rpc.Code, where code 1 is `CANCELLED`.
 */
export function codeName(code: Code): string {
  if (code === Code.Canceled) return "CANCELLED";
  return (Code[code] ?? "Unknown").replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

/** Codes a caller may retry without changing the request. */
const retriableCodes = new Set<Code>([Code.Unavailable, Code.ResourceExhausted, Code.Aborted]);

/** Options shared by every Flotilla error constructor. */
export interface FlotillaErrorOptions {
  /** The lower-level error or the original gRPC status this one wraps. */
  cause?: unknown;
  /** Key/value context sent as gRPC trailing metadata (never secrets). */
  metadata?: Record<string, string>;
}

/** An error with a gRPC status code; the one error type crossing the plugin boundary. */
export class FlotillaError extends Error {
  /** The status code; the subclass (if any) always matches it. */
  readonly code: Code;
  /** Context that travels with the error as gRPC metadata. */
  readonly metadata: Record<string, string>;

  constructor(code: Code, message: string, options: FlotillaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.metadata = { ...options.metadata };
  }

  /** True when repeating the same call later may succeed. */
  get retriable(): boolean {
    return retriableCodes.has(this.code);
  }
}

/** The thing asked for does not exist. */
export class NotFoundError extends FlotillaError {
  constructor(message: string, options?: FlotillaErrorOptions) {
    super(Code.NotFound, message, options);
  }
}
/** The thing to create exists already. */
export class AlreadyExistsError extends FlotillaError {
  constructor(message: string, options?: FlotillaErrorOptions) {
    super(Code.AlreadyExists, message, options);
  }
}
/** Rate limited or out of quota; retriable after a while. */
export class ResourceExhaustedError extends FlotillaError {
  constructor(message: string, options?: FlotillaErrorOptions) {
    super(Code.ResourceExhausted, message, options);
  }
}
/** The plugin or the cloud behind it cannot answer now; retriable. */
export class UnavailableError extends FlotillaError {
  constructor(message: string, options?: FlotillaErrorOptions) {
    super(Code.Unavailable, message, options);
  }
}
/** A deadline passed before the call finished. */
export class DeadlineExceededError extends FlotillaError {
  constructor(message: string, options?: FlotillaErrorOptions) {
    super(Code.DeadlineExceeded, message, options);
  }
}
/** Credentials are missing, invalid or expired. */
export class UnauthenticatedError extends FlotillaError {
  constructor(message: string, options?: FlotillaErrorOptions) {
    super(Code.Unauthenticated, message, options);
  }
}
/** Credentials are valid but not allowed to do this. */
export class PermissionDeniedError extends FlotillaError {
  constructor(message: string, options?: FlotillaErrorOptions) {
    super(Code.PermissionDenied, message, options);
  }
}
/** The request is malformed; the message names the field and the fix. */
export class InvalidArgumentError extends FlotillaError {
  constructor(message: string, options?: FlotillaErrorOptions) {
    super(Code.InvalidArgument, message, options);
  }
}
/** The system is not in a state that allows this call (e.g. not configured). */
export class FailedPreconditionError extends FlotillaError {
  constructor(message: string, options?: FlotillaErrorOptions) {
    super(Code.FailedPrecondition, message, options);
  }
}
/** The plugin does not implement this call. */
export class UnimplementedError extends FlotillaError {
  constructor(message: string, options?: FlotillaErrorOptions) {
    super(Code.Unimplemented, message, options);
  }
}
/** The caller cancelled the call. */
export class CanceledError extends FlotillaError {
  constructor(message: string, options?: FlotillaErrorOptions) {
    super(Code.Canceled, message, options);
  }
}
/** A bug or an unexpected failure inside the plugin. */
export class InternalError extends FlotillaError {
  constructor(message: string, options?: FlotillaErrorOptions) {
    super(Code.Internal, message, options);
  }
}

type ErrorClass = new (message: string, options?: FlotillaErrorOptions) => FlotillaError;

const classByCode: ReadonlyMap<Code, ErrorClass> = new Map<Code, ErrorClass>([
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
]);

/** Builds the most specific error class for a code. */
export function errorForCode(code: Code, message: string, options?: FlotillaErrorOptions): FlotillaError {
  const ErrorClass = classByCode.get(code);
  return ErrorClass ? new ErrorClass(message, options) : new FlotillaError(code, message, options);
}

/** True when `err` is a FlotillaError, and, if `code` is given, has that code. */
export function isFlotillaError(err: unknown, code?: Code): err is FlotillaError {
  return err instanceof FlotillaError && (code === undefined || err.code === code);
}

/** A gRPC status as both sides see it: the code, the message and string metadata. */
export interface StatusLike {
  code: number;
  details: string;
  metadata?: Record<string, string>;
}

/**
 * Turns anything a plugin handler threw into a status. A FlotillaError keeps
 * its code, message and metadata; anything else becomes INTERNAL with its
 * message, so a bug in a plugin still says what went wrong.
 */
export function toStatus(err: unknown): StatusLike {
  if (err instanceof FlotillaError) {
    return { code: err.code, details: err.message, metadata: err.metadata };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: Code.Internal, details: message || "plugin handler failed without a message" };
}

/**
 * Turns a status received by the host into the matching error class. The
 * original status object stays reachable as `cause`.
 */
export function fromStatus(status: StatusLike, cause: unknown = status): FlotillaError {
  const code = status.code in Code ? (status.code as Code) : Code.Unknown;
  return errorForCode(code, status.details, { cause, metadata: status.metadata ?? {} });
}

/** A per-job failure inside a batch call, as the contract's JobError carries it. */
export interface JobErrorShape {
  /** The code's wire name, e.g. `NOT_FOUND`: what a single call for that job would have failed with. */
  code: string;
  /** The error's message. */
  message: string;
}

/**
 * The JobError a batch call reports for one job whose lookup threw: the same
 * code and message {@link toStatus} would have sent for a single call.
 */
export function toJobError(err: unknown): JobErrorShape {
  const { code, details } = toStatus(err);
  return { code: codeName(code), message: details };
}

/**
 * The error a JobError stands for, as the single call would have thrown it; a
 * code name this side does not know becomes Unknown.
 */
export function fromJobError(jobError: JobErrorShape): FlotillaError {
  const code = codeByName.get(jobError.code) ?? Code.Unknown;
  return errorForCode(code, jobError.message, { cause: jobError });
}

const codeByName: ReadonlyMap<string, Code> = new Map([
  ...Object.values(Code)
    .filter((value): value is Code => typeof value === "number")
    .map((code): [string, Code] => [codeName(code), code]),
  // Go's codes.Canceled spells it with one L; accept what a Go plugin may send.
  ["CANCELED", Code.Canceled],
]);
