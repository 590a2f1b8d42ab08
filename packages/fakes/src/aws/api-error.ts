/**
 * An error a fake AWS operation throws to answer with an AWS error response;
 * the server turns it into the protocol's error shape (JSON `__type` or EC2
 * XML `<Errors>`).
 */
export class AwsApiError extends Error {
  /** The AWS error code, e.g. "ClusterNotFoundException". */
  readonly type: string;
  /** The HTTP status the error goes out with. */
  readonly status: number;
  /** Extra members of the error body, e.g. ConflictException's `resourceIds`. */
  readonly fields: Record<string, unknown>;

  constructor(type: string, message: string, status = 400, fields: Record<string, unknown> = {}) {
    super(message);
    this.name = "AwsApiError";
    this.type = type;
    this.status = status;
    this.fields = fields;
  }
}
