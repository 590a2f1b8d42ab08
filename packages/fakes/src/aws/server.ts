/**
 * The AWS fake's HTTP server: one node:http listener on 127.0.0.1 that
 * speaks AWS JSON 1.1 (ECS and CloudWatch Logs: `POST /` with
 * `x-amz-target: <ServiceTarget>.<Operation>`) and the EC2 Query protocol
 * (form-encoded `Action=...`, and STS AssumeRole over the AWS Query
 * protocol), as the installed SDK clients do. Errors go out
 * in each protocol's shape so the SDK parses them into its modeled exception
 * classes: JSON `{"__type", "message"}` plus `x-amzn-errortype`, or EC2's XML
 * `<Response><Errors>`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { AwsApiError } from "./api-error.js";
import { CallCounter } from "./call-counter.js";
import { FakeClock } from "./clock.js";
import { FakeEc2 } from "./ec2.js";
import { FakeEcs } from "./ecs.js";
import { type AwsWireError, FaultInjector } from "./faults.js";
import { FakeCloudWatchLogs } from "./logs.js";
import { SignerLog } from "./signer-log.js";
import { FakeSts } from "./sts.js";

/** Options of {@link startFakeAws}. */
export interface FakeAwsOptions {
  /** Clusters that exist from the start. Default ["default"]. */
  clusters?: string[];
  /** Account id used in ARNs. Default "123456789012". */
  account?: string;
  /** Region used when a request carries none in its signature. Default "us-east-1". */
  region?: string;
}

/** A running AWS fake. */
export interface FakeAws {
  /** Base URL to pass as the SDK clients' `endpoint`, e.g. "http://127.0.0.1:40123". */
  readonly endpoint: string;
  /** The ECS simulation. */
  readonly ecs: FakeEcs;
  /** The CloudWatch Logs simulation. */
  readonly logs: FakeCloudWatchLogs;
  /** The EC2 simulation (regions). */
  readonly ec2: FakeEc2;
  /** The STS simulation (AssumeRole). */
  readonly sts: FakeSts;
  /** Which access key signed each call. */
  readonly signers: SignerLog;
  /** The fake's clock; advance it to move tasks along. */
  readonly clock: FakeClock;
  /** Queued failures. */
  readonly faults: FaultInjector;
  /** Calls received per operation (each SDK retry counts). */
  readonly calls: CallCounter;
  /** Stops the server and drops its connections. */
  close(): Promise<void>;
}

const ecsTarget = "AmazonEC2ContainerServiceV20141113";
const logsTarget = "Logs_20140328";

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** The region from a SigV4 Authorization header's credential scope. */
function signedRegion(request: IncomingMessage): string | undefined {
  const match = /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(request.headers.authorization ?? "");
  return match?.[1];
}

function sendJsonError(response: ServerResponse, error: AwsWireError & { fields?: Record<string, unknown> }): void {
  response.writeHead(error.status, {
    "content-type": "application/x-amz-json-1.1",
    "x-amzn-errortype": error.type,
    "x-amzn-requestid": "fake-request",
  });
  response.end(JSON.stringify({ __type: error.type, message: error.message, ...error.fields }));
}

/** Starts the AWS fake on 127.0.0.1 with an OS-chosen port. */
export async function startFakeAws(options: FakeAwsOptions = {}): Promise<FakeAws> {
  const account = options.account ?? "123456789012";
  const defaultRegion = options.region ?? "us-east-1";
  const clock = new FakeClock();
  const logs = new FakeCloudWatchLogs(clock, account);
  const ecs = new FakeEcs(clock, logs, account, defaultRegion);
  const ec2 = new FakeEc2();
  const sts = new FakeSts(clock);
  const signers = new SignerLog();
  const faults = new FaultInjector();
  const calls = new CallCounter();
  for (const name of options.clusters ?? ["default"]) ecs.createCluster(name);

  async function handleJson(request: IncomingMessage, response: ServerResponse, target: string): Promise<void> {
    const [service, operation = ""] = target.split(".");
    calls.record(operation);
    signers.record(operation, request.headers.authorization);
    const body = await readBody(request);
    const fault = faults.take(operation);
    if (fault) return sendJsonError(response, fault);
    const region = signedRegion(request) ?? defaultRegion;
    let input: Record<string, unknown>;
    try {
      input = body === "" ? {} : (JSON.parse(body) as Record<string, unknown>);
    } catch {
      return sendJsonError(response, {
        type: "SerializationException",
        status: 400,
        message: "Request body is not valid JSON",
      });
    }
    try {
      ecs.settle();
      const output =
        service === ecsTarget
          ? ecs.handle(operation, input, region)
          : service === logsTarget
            ? logs.handle(operation, input, region)
            : undefined;
      if (output === undefined) {
        return sendJsonError(response, {
          type: "UnknownOperationException",
          status: 400,
          message: `The fake does not simulate ${target}`,
        });
      }
      response.writeHead(200, { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": "fake-request" });
      response.end(JSON.stringify(output));
    } catch (err) {
      if (err instanceof AwsApiError)
        return sendJsonError(response, {
          type: err.type,
          status: err.status,
          message: err.message,
          fields: err.fields,
        });
      sendJsonError(response, { type: "ServerException", status: 500, message: `fake bug: ${(err as Error).message}` });
    }
  }

  async function handleQuery(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const params = new URLSearchParams(await readBody(request));
    const action = params.get("Action") ?? "";
    calls.record(action);
    signers.record(action, request.headers.authorization);
    const fault = faults.take(action);
    const sendXml = (status: number, xml: string) => {
      response.writeHead(status, { "content-type": "text/xml;charset=UTF-8" });
      response.end(xml);
    };
    if (fault) return sendXml(fault.status, FakeEc2.errorXml(fault.type, fault.message));
    const xml = ec2.handle(action, params) ?? sts.handle(action, params);
    if (xml === undefined)
      return sendXml(400, FakeEc2.errorXml("InvalidAction", `The fake does not simulate ${action}`));
    sendXml(200, xml);
  }

  const server = createServer((request, response) => {
    const target = request.headers["x-amz-target"];
    const work =
      request.method === "POST" && typeof target === "string"
        ? handleJson(request, response, target)
        : request.method === "POST"
          ? handleQuery(request, response)
          : Promise.resolve(
              sendJsonError(response, { type: "UnknownOperationException", status: 404, message: "POST only" }),
            );
    work.catch((err: unknown) => {
      if (!response.headersSent)
        sendJsonError(response, { type: "ServerException", status: 500, message: String(err) });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    ecs,
    logs,
    ec2,
    sts,
    signers,
    clock,
    faults,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
