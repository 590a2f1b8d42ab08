/** Raw wire helpers for the fake's own tests: JSON 1.1 and EC2 Query requests as the SDKs send them. */

/** What a JSON 1.1 call answered. */
export interface JsonAnswer {
  status: number;
  contentType: string | null;
  errorType: string | null;
  body: Record<string, unknown>;
}

/** Posts one AWS JSON 1.1 call; returns status, the headers that matter and the parsed body. */
export async function callJson(
  endpoint: string,
  target: string,
  body: unknown,
  region = "eu-west-1",
): Promise<JsonAnswer> {
  const response = await fetch(`${endpoint}/`, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": target,
      authorization: `AWS4-HMAC-SHA256 Credential=AKID/20260101/${region}/ecs/aws4_request, SignedHeaders=host, Signature=x`,
    },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    errorType: response.headers.get("x-amzn-errortype"),
    body: (await response.json()) as Record<string, unknown>,
  };
}

/** An ECS operation. */
export const ecsOp = (endpoint: string, operation: string, body: unknown): Promise<JsonAnswer> =>
  callJson(endpoint, `AmazonEC2ContainerServiceV20141113.${operation}`, body);

/** A CloudWatch Logs operation. */
export const logsOp = (endpoint: string, operation: string, body: unknown): Promise<JsonAnswer> =>
  callJson(endpoint, `Logs_20140328.${operation}`, body);
