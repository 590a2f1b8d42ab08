/**
 * Fault injection for the AWS fake: make the next N calls of an operation
 * (or of every operation) fail the way AWS fails them, so tests can check the
 * plugin's error translation and the SDK's own retries.
 */

/** An AWS error as it goes on the wire: its type name, HTTP status and message. */
export interface AwsWireError {
  /** The error code, e.g. "ThrottlingException"; becomes `__type` and `x-amzn-errortype`. */
  type: string;
  /** The HTTP status, e.g. 400 or 503. */
  status: number;
  /** The human message. */
  message: string;
}

/** The failures AWS really produces that tests commonly need, ready to inject. */
export const AwsFaults = {
  throttling: { type: "ThrottlingException", status: 400, message: "Rate exceeded" },
  accessDenied: {
    type: "AccessDeniedException",
    status: 400,
    message: "User: arn:aws:iam::123456789012:user/test is not authorized to perform this action",
  },
  expiredToken: {
    type: "ExpiredTokenException",
    status: 400,
    message: "The security token included in the request is expired",
  },
  unrecognizedClient: {
    type: "UnrecognizedClientException",
    status: 400,
    message: "The security token included in the request is invalid.",
  },
  serverError: { type: "ServerException", status: 500, message: "Service encountered an internal error" },
  serviceUnavailable: { type: "ServiceUnavailableException", status: 503, message: "Service is unavailable" },
} as const satisfies Record<string, AwsWireError>;

interface FaultRule {
  operation: string | "*";
  error: AwsWireError;
  remaining: number;
}

/** Queued failures, consumed in the order they were added. */
export class FaultInjector {
  private rules: FaultRule[] = [];

  /**
   * Makes the next `times` calls of `operation` ("RunTask", "GetLogEvents",
   * "DescribeRegions", or "*" for any) fail with `error`. `times` may be
   * Infinity to fail until {@link clear} is called.
   */
  inject(operation: string | "*", error: AwsWireError, times = 1): void {
    this.rules.push({ operation, error, remaining: times });
  }

  /** Removes every pending failure. */
  clear(): void {
    this.rules = [];
  }

  /** The failure for this call of `operation`, if one is due; consumes it. */
  take(operation: string): AwsWireError | undefined {
    const rule = this.rules.find((r) => r.remaining > 0 && (r.operation === "*" || r.operation === operation));
    if (!rule) return undefined;
    rule.remaining -= 1;
    this.rules = this.rules.filter((r) => r.remaining > 0);
    return rule.error;
  }
}
