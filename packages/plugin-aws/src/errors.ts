/**
 * Translates AWS SDK errors into the contract's error classes, so a caller
 * of any cloud plugin can branch on `instanceof ResourceExhaustedError` and
 * the like. Called after the SDK's own retries have been spent: a throttling
 * error seen here means the plugin is really rate limited.
 */
import {
  AlreadyExistsError,
  CanceledError,
  type FlotillaError,
  InternalError,
  InvalidArgumentError,
  isFlotillaError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
} from "@flotilla/protocol";

const throttlingNames = new Set([
  "ThrottlingException",
  "Throttling",
  "ThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "LimitExceededException",
  "ServiceQuotaExceededException",
  "ProvisionedThroughputExceededException",
  "SlowDown",
]);
const accessDeniedNames = new Set([
  "AccessDeniedException",
  "AccessDenied",
  "UnauthorizedOperation",
  "UnauthorizedException",
]);
const unauthenticatedNames = new Set([
  "ExpiredTokenException",
  "ExpiredToken",
  "UnrecognizedClientException",
  "InvalidClientTokenId",
  "InvalidSignatureException",
  "SignatureDoesNotMatch",
  "IncompleteSignature",
  "MissingAuthenticationToken",
  "AuthFailure",
  "CredentialsProviderError",
]);
const notFoundNames = new Set([
  "ClusterNotFoundException",
  "ServiceNotFoundException",
  "ServiceNotActiveException",
  "ResourceNotFoundException",
  "TaskSetNotFoundException",
  "TargetNotFoundException",
  "NamespaceNotFoundException",
]);
const alreadyExistsNames = new Set(["ResourceAlreadyExistsException", "ConflictException"]);
// ECS reports several missing things as a generic client error with a message.
const notFoundMessage = /not found|does not exist|unable to describe task definition/i;

interface AwsErrorShape {
  name?: string;
  message?: string;
  $fault?: "client" | "server";
  $metadata?: { httpStatusCode?: number; requestId?: string; attempts?: number };
  code?: string;
}

/**
 * The contract error for an AWS error. `action` says what the plugin was
 * doing, e.g. "ECS RunTask", and starts the message. A FlotillaError passes
 * through unchanged.
 */
export function translateAwsError(err: unknown, action: string): FlotillaError {
  if (isFlotillaError(err)) return err;
  const e = (typeof err === "object" && err !== null ? err : { message: String(err) }) as AwsErrorShape;
  const name = e.name ?? "Error";
  const status = e.$metadata?.httpStatusCode;
  const attempts = e.$metadata?.attempts;
  const metadata: Record<string, string> = { "aws-error": name };
  if (e.$metadata?.requestId) metadata["aws-request-id"] = e.$metadata.requestId;
  const message = `${action} failed: ${name}: ${e.message ?? "no message"}`;
  const options = { cause: err, metadata };
  if (name === "AbortError") return new CanceledError(`${action} was cancelled`, options);
  if (throttlingNames.has(name) || status === 429) {
    return new ResourceExhaustedError(
      `${message} (still throttled after ${attempts ?? "the SDK's"} attempts; retry later or raise the account's API rate limits)`,
      options,
    );
  }
  if (accessDeniedNames.has(name)) {
    return new PermissionDeniedError(
      `${message} (grant the plugin's IAM identity the permission; see the plugin README for the policy)`,
      options,
    );
  }
  if (unauthenticatedNames.has(name)) {
    return new UnauthenticatedError(
      `${message} (check the provider's credentials: profile, role or keys, and that they have not expired)`,
      options,
    );
  }
  if (notFoundNames.has(name)) return new NotFoundError(message, options);
  if (alreadyExistsNames.has(name)) return new AlreadyExistsError(message, options);
  if (e.$fault === "server" || (status !== undefined && status >= 500)) return new UnavailableError(message, options);
  if (e.$fault === "client" || (status !== undefined && status >= 400)) {
    if (notFoundMessage.test(e.message ?? "")) return new NotFoundError(message, options);
    return new InvalidArgumentError(message, options);
  }
  // No HTTP response at all: connection refused, DNS, socket timeout.
  if (
    e.$metadata !== undefined ||
    ["TimeoutError", "NetworkingError"].includes(name) ||
    /ECONN|ENOTFOUND|EAI_AGAIN|socket/i.test(`${e.code ?? ""} ${e.message ?? ""}`)
  ) {
    return new UnavailableError(message, options);
  }
  return new InternalError(message, options);
}
