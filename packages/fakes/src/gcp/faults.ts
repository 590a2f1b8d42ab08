/**
 * Fault injection for the GCP fake: the next N calls of a method (or of any
 * method) fail with the gRPC status a Google API really answers with, so tests
 * can check a plugin's error translation and the client library's retries.
 */
import { GcpApiError, GrpcStatus } from "./api-error.js";

/**
 * The failures a first real run meets, ready to inject. Messages follow the
 * shape Google APIs use: quota errors name the quota metric and limit (e.g.
 * "Quota exceeded for quota metric 'Build and Operation Get requests' and
 * limit ..." quoted in kubernetes/k8s.io#1576); permission errors name the
 * permission (the Cloud Run REST reference lists `run.jobs.create`,
 * `run.jobs.run`, ... for each method).
 */
export const GcpFaults = {
  resourceExhausted: () =>
    new GcpApiError(
      GrpcStatus.RESOURCE_EXHAUSTED,
      "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute' of service 'run.googleapis.com' for consumer 'project_number:123456789012'.",
    ),
  permissionDenied: (permission = "run.jobs.create") =>
    new GcpApiError(
      GrpcStatus.PERMISSION_DENIED,
      `Permission '${permission}' denied on resource (or it may not exist).`,
    ),
  unauthenticated: () =>
    new GcpApiError(
      GrpcStatus.UNAUTHENTICATED,
      "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
    ),
  unavailable: () => new GcpApiError(GrpcStatus.UNAVAILABLE, "The service is currently unavailable."),
  internal: () => new GcpApiError(GrpcStatus.INTERNAL, "Internal error encountered."),
} as const satisfies Record<string, (...args: never[]) => GcpApiError>;

interface FaultRule {
  method: string;
  error: () => GcpApiError;
  remaining: number;
}

/** Queued failures, consumed in the order they were added. */
export class GcpFaultInjector {
  private rules: FaultRule[] = [];

  /**
   * Makes the next `times` calls of `method` (the gRPC method name, e.g.
   * "CreateJob", "ListLogEntries", "GetOperation", or "*" for any) fail with
   * the error `error` makes. `times` may be Infinity to fail until {@link clear}.
   */
  inject(method: string, error: () => GcpApiError, times = 1): void {
    this.rules.push({ method, error, remaining: times });
  }

  /** Removes every pending failure. */
  clear(): void {
    this.rules = [];
  }

  /** The failure for this call of `method`, if one is due; consumes it. */
  take(method: string): GcpApiError | undefined {
    const rule = this.rules.find((r) => r.remaining > 0 && (r.method === "*" || r.method === method));
    if (!rule) return undefined;
    rule.remaining -= 1;
    this.rules = this.rules.filter((r) => r.remaining > 0);
    return rule.error();
  }
}
