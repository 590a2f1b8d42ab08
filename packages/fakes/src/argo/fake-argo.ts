/**
 * A wire-level fake of the Argo Workflows server's HTTP API (the
 * grpc-gateway JSON one the `argo` CLI uses with ARGO_HTTP1), enough for a
 * single-container workflow: create (POST /api/v1/workflows/{ns} with
 * `{"workflow": ...}`), get, list by `listOptions.labelSelector`, delete, and
 * logs (GET /api/v1/workflows/{ns}/{name}/log?logOptions.container=main,
 * newline-delimited `{"result":{"content","podName"}}`, streaming with
 * logOptions.follow=true). The entrypoint template's container runs as a
 * local process; the pod node reports its real exit code in
 * outputs.exitCode as Argo does. It honours ttlStrategy.secondsAfterCompletion
 * like the workflow controller, and simulates slow starts, slow status
 * calls, failed log fetches, throttling and lost responses.
 */
import type { Server, ServerResponse } from "node:http";
import {
  closeFakeServer,
  FaultPlan,
  type RecordedRequest,
  sendJson,
  startFakeServer,
} from "../kubernetes/fake-http.js";
import { ProcessContainer } from "../kubernetes/process-container.js";

/** Options of the fake Argo server. */
export interface FakeArgoOptions {
  /** How long each workflow stays Pending before its container starts. Default 0. */
  readonly startDelayMs?: number;
  /**
   * The bare token the server accepts (the part after "Bearer "). When set, every request needs
   * `Authorization: Bearer <token>`, as Argo's docs/access-token.md shows
   * (`curl -H "Authorization: $ARGO_TOKEN"` with `ARGO_TOKEN="Bearer …"`); anything else, "Bearer Bearer …"
   * included, is answered 401 with gRPC code 16 (Unauthenticated), as the server's gatekeeper does.
   */
  readonly token?: string;
  /**
   * Images whose pull fails: the workflow stays Running with its pod node Pending, the node's message
   * `ErrImagePull: …` / `ImagePullBackOff: Back-off pulling image "…"` as the controller copies the pod's
   * waiting reason (below), until {@link FakeArgo.makePullable}.
   */
  readonly unpullableImages?: readonly string[];
  /** How often the fake kubelet retries a pull or a container whose Secret is missing. Default 100 ms. */
  readonly retryMs?: number;
}

interface ContainerTemplate {
  image?: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
}

interface WorkflowObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp: string;
  };
  spec: {
    entrypoint?: string;
    templates?: { name: string; container?: ContainerTemplate }[];
    ttlStrategy?: { secondsAfterCompletion?: number; secondsAfterSuccess?: number; secondsAfterFailure?: number };
  };
}

interface WorkflowRecord {
  object: WorkflowObject;
  container: ProcessContainer | undefined;
  error: string | undefined;
  /** The pod exists but its container cannot start yet: the node's Pending message. */
  podPending: string | undefined;
  startTimer: NodeJS.Timeout | undefined;
  ttlTimer: NodeJS.Timeout | undefined;
  deleted: boolean;
}

/** The fake Argo server. Start it with {@link start}, point the ephemeral runner at {@link url}. */
export class FakeArgo {
  /** Every request received, in order. */
  readonly requests: RecordedRequest[] = [];
  /** Faults to inject. */
  readonly faults = new FaultPlan();
  /** Secrets by "namespace/name", key to value, for secretKeyRef resolution. */
  readonly secrets = new Map<string, Record<string, string>>();
  /** How many workflows were ever created (a re-dispatch must not raise it). */
  workflowsCreated = 0;
  /** Names of workflows the TTL removed, as the workflow controller would. */
  readonly expiredByTtl: string[] = [];
  /** Log requests fail with 500 while true. */
  failLogs = false;
  /** Extra time every GET of a workflow takes, to catch a client that cannot abort in flight. */
  statusDelayMs = 0;
  /** Delayed status calls the client gave up on (closed the connection) before the answer came. */
  abortedStatusCalls = 0;
  readonly #unpullable: Set<string>;
  readonly #workflows = new Map<string, WorkflowRecord>();
  readonly #options: FakeArgoOptions;
  readonly #pendingResponses = new Set<NodeJS.Timeout>();
  #server: Server | undefined;
  #url = "";
  #uid = 1;

  constructor(options: FakeArgoOptions = {}) {
    this.#options = options;
    this.#unpullable = new Set(options.unpullableImages ?? []);
  }

  /** Lets `image` be pulled from now on: a workflow whose pod retries its pull starts at the next attempt. */
  makePullable(image: string): void {
    this.#unpullable.delete(image);
  }

  /**
   * Ends a workflow in phase Error with `message`, as the controller does for an error outside the container
   * (its pod deleted, for one): no exit code is reported.
   */
  errorWorkflow(namespace: string, name: string, message: string): void {
    const record = this.#workflows.get(`${namespace}/${name}`);
    if (!record) return;
    if (record.startTimer) clearTimeout(record.startTimer);
    record.podPending = undefined;
    record.error = message;
    record.container?.kill();
    this.#scheduleTtl(record);
  }

  /** The base URL, e.g. http://127.0.0.1:40123. */
  get url(): string {
    return this.#url;
  }

  /** Starts listening on 127.0.0.1 on a free port. */
  async start(): Promise<this> {
    const { server, url } = await startFakeServer(
      (request, url, body, response) =>
        this.#handle(request.method ?? "GET", url, body, response, request.headers.authorization),
      this.faults,
      this.requests,
    );
    this.#server = server;
    this.#url = url;
    return this;
  }

  /** Kills every workflow's process and stops the server. */
  async close(): Promise<void> {
    for (const record of this.#workflows.values()) this.#stop(record);
    for (const timer of this.#pendingResponses) clearTimeout(timer);
    this.#workflows.clear();
    if (this.#server) await closeFakeServer(this.#server);
  }

  /** Names of the workflows that exist now in `namespace`. */
  workflowNames(namespace = "argo"): string[] {
    return [...this.#workflows.values()]
      .filter((w) => w.object.metadata.namespace === namespace)
      .map((w) => w.object.metadata.name);
  }

  /** The phase of a workflow, or undefined if it does not exist. */
  phaseOf(namespace: string, name: string): string | undefined {
    const record = this.#workflows.get(`${namespace}/${name}`);
    return record ? phase(record) : undefined;
  }

  #handle(method: string, url: URL, body: string, response: ServerResponse, authorization: string | undefined): void {
    if (this.#options.token !== undefined && authorization !== `Bearer ${this.#options.token}`) {
      sendError(response, 401, 16, "token not valid. see https://argo-workflows.readthedocs.io/en/latest/faq/");
      return;
    }
    const parts = url.pathname.split("/").filter(Boolean);
    // /api/v1/workflows/{ns}[/{name}[/log]]
    if (parts[0] !== "api" || parts[1] !== "v1" || parts[2] !== "workflows" || !parts[3]) {
      sendError(response, 404, 5, `fake argo: no route for ${method} ${url.pathname}`);
      return;
    }
    const namespace = parts[3];
    const name = parts[4];
    const sub = parts[5];
    if (!name && method === "POST") {
      this.#create(namespace, body, response);
      return;
    }
    if (!name && method === "GET") {
      this.#list(namespace, url, response);
      return;
    }
    if (!name) {
      sendError(response, 405, 12, `fake argo: ${method} not allowed on workflows`);
      return;
    }
    const record = this.#workflows.get(`${namespace}/${name}`);
    if (!record) {
      sendError(response, 404, 5, `workflows.argoproj.io "${name}" not found`);
      return;
    }
    if (sub === "log" && method === "GET") {
      this.#log(record, url, response);
      return;
    }
    if (!sub && method === "GET") {
      if (this.statusDelayMs <= 0) {
        sendJson(response, 200, render(record));
        return;
      }
      const timer = setTimeout(() => {
        this.#pendingResponses.delete(timer);
        if (!response.destroyed) sendJson(response, 200, render(record));
      }, this.statusDelayMs);
      this.#pendingResponses.add(timer);
      response.on("close", () => {
        if (response.writableEnded) return;
        this.abortedStatusCalls += 1;
        clearTimeout(timer);
        this.#pendingResponses.delete(timer);
      });
      return;
    }
    if (!sub && method === "DELETE") {
      this.#remove(record);
      sendJson(response, 200, {});
      return;
    }
    sendError(response, 405, 12, `fake argo: ${method} not allowed on ${url.pathname}`);
  }

  #create(namespace: string, body: string, response: ServerResponse): void {
    const request = JSON.parse(body) as { workflow?: WorkflowObject };
    const workflow = request.workflow;
    const name = workflow?.metadata?.name;
    if (!workflow || !name) {
      sendError(response, 400, 3, "workflow.metadata.name is required (generateName is not supported by this fake)");
      return;
    }
    if (this.#workflows.has(`${namespace}/${name}`)) {
      sendError(response, 409, 6, `workflows.argoproj.io "${name}" already exists`);
      return;
    }
    const template = workflow.spec?.templates?.find((t) => t.name === workflow.spec.entrypoint);
    if (!template?.container) {
      sendError(response, 400, 3, `spec.entrypoint "${workflow.spec?.entrypoint}" names no container template`);
      return;
    }
    this.workflowsCreated += 1;
    const record: WorkflowRecord = {
      object: {
        ...workflow,
        apiVersion: "argoproj.io/v1alpha1",
        kind: "Workflow",
        metadata: {
          ...workflow.metadata,
          namespace,
          uid: `uid-${this.#uid++}`,
          creationTimestamp: new Date().toISOString(),
        },
      },
      container: undefined,
      error: undefined,
      podPending: undefined,
      startTimer: undefined,
      ttlTimer: undefined,
      deleted: false,
    };
    this.#workflows.set(`${namespace}/${name}`, record);
    record.startTimer = setTimeout(
      () => this.#start(record, namespace, template.container ?? {}),
      this.#options.startDelayMs ?? 0,
    );
    if (this.faults.takeLostCreate()) {
      response.destroy();
      return;
    }
    sendJson(response, 200, render(record));
  }

  /**
   * Starts the workflow's pod. A pod whose image cannot be pulled or whose Secret is missing does not fail
   * the workflow: the kubelet keeps retrying, the workflow stays Running and its pod node Pending, with the
   * message the controller's getPendingReason builds from the pod's waiting state, "<reason>: <message>"
   * (argo-workflows workflow/controller/operator.go, assessNodeStatus → getPendingReason).
   */
  #start(record: WorkflowRecord, namespace: string, container: ContainerTemplate): void {
    record.startTimer = undefined;
    const retry = (message: string): void => {
      record.podPending = message;
      record.startTimer = setTimeout(() => this.#start(record, namespace, container), this.#options.retryMs ?? 100);
    };
    if (container.image && this.#unpullable.has(container.image)) {
      const backingOff = record.podPending?.startsWith("ErrImagePull") ?? false;
      retry(
        backingOff
          ? `ImagePullBackOff: Back-off pulling image "${container.image}"`
          : `ErrImagePull: rpc error: code = NotFound desc = failed to pull and unpack image "${container.image}": not found`,
      );
      return;
    }
    const env: Record<string, string> = {};
    for (const variable of container.env ?? []) {
      const ref = variable.valueFrom?.secretKeyRef;
      if (ref) {
        const value = this.secrets.get(`${namespace}/${ref.name}`)?.[ref.key];
        if (value === undefined) {
          retry(`CreateContainerConfigError: secret "${ref.name}" not found`);
          return;
        }
        env[variable.name] = value;
      } else env[variable.name] = variable.value ?? "";
    }
    record.podPending = undefined;
    record.container = new ProcessContainer({
      command: [...(container.command ?? []), ...(container.args ?? [])],
      env,
      ...(container.workingDir ? { workingDir: container.workingDir } : {}),
    });
    void record.container.exited().then(() => this.#scheduleTtl(record));
  }

  /** The workflow controller deletes a completed workflow after ttlStrategy.secondsAfterCompletion. */
  #scheduleTtl(record: WorkflowRecord): void {
    const ttl = record.object.spec.ttlStrategy;
    const failed = phase(record) !== "Succeeded";
    const seconds = (failed ? ttl?.secondsAfterFailure : ttl?.secondsAfterSuccess) ?? ttl?.secondsAfterCompletion;
    if (seconds === undefined || record.deleted || record.ttlTimer) return;
    record.ttlTimer = setTimeout(() => {
      this.expiredByTtl.push(record.object.metadata.name);
      this.#remove(record);
    }, seconds * 1000);
    record.ttlTimer.unref();
  }

  #remove(record: WorkflowRecord): void {
    this.#stop(record);
    record.deleted = true;
    this.#workflows.delete(`${record.object.metadata.namespace}/${record.object.metadata.name}`);
  }

  #stop(record: WorkflowRecord): void {
    if (record.startTimer) clearTimeout(record.startTimer);
    if (record.ttlTimer) clearTimeout(record.ttlTimer);
    record.container?.kill();
  }

  #list(namespace: string, url: URL, response: ServerResponse): void {
    const selector = (url.searchParams.get("listOptions.labelSelector") ?? "")
      .split(",")
      .filter(Boolean)
      .map((term) => term.split("=") as [string, string]);
    const items = [...this.#workflows.values()]
      .filter((w) => w.object.metadata.namespace === namespace)
      .filter((w) => selector.every(([key, value]) => w.object.metadata.labels?.[key] === value))
      .map(render);
    // Like the real server, an empty list is `null`, not `[]`.
    sendJson(response, 200, { metadata: {}, items: items.length ? items : null });
  }

  #log(record: WorkflowRecord, url: URL, response: ServerResponse): void {
    if (this.failLogs) {
      sendError(response, 500, 13, "fake argo: log retrieval failed (simulated)");
      return;
    }
    if (url.searchParams.get("logOptions.container") !== "main") {
      sendError(response, 400, 3, "fake argo: only logOptions.container=main is served");
      return;
    }
    const podName = record.object.metadata.name;
    response.writeHead(200, { "content-type": "application/json" });
    const follow = url.searchParams.get("logOptions.follow") === "true";
    if (!record.container && follow && !record.error && !record.deleted) {
      // Following a workflow whose pod has not started yet: the server waits for it, as Argo's log
      // streaming watches the workflow's pods and streams each once it runs.
      const wait = setInterval(() => {
        if (!record.container && !record.error && !record.deleted && !response.destroyed) return;
        clearInterval(wait);
        if (response.destroyed) return;
        this.#streamLog(record, podName, follow, response);
      }, 50);
      response.on("close", () => clearInterval(wait));
      return;
    }
    this.#streamLog(record, podName, follow, response);
  }

  #streamLog(record: WorkflowRecord, podName: string, follow: boolean, response: ServerResponse): void {
    const container = record.container;
    if (!container) {
      response.end();
      return;
    }
    let pending = "";
    const write = (chunk: string): void => {
      const lines = (pending + chunk).split("\n");
      pending = lines.pop() ?? "";
      for (const content of lines) response.write(`${JSON.stringify({ result: { content, podName } })}\n`);
    };
    const finish = (): void => {
      if (pending) response.write(`${JSON.stringify({ result: { content: pending, podName } })}\n`);
      response.end();
    };
    write(container.log);
    if (!follow || container.state.kind === "terminated") {
      finish();
      return;
    }
    container.on("output", write);
    container.once("exit", () => {
      container.off("output", write);
      finish();
    });
    response.on("close", () => container.off("output", write));
  }
}

function phase(record: WorkflowRecord): string {
  if (record.error) return "Error";
  if (record.podPending !== undefined) return "Running";
  const state = record.container?.state;
  if (!state) return "Pending";
  if (state.kind === "running") return "Running";
  return state.exitCode === 0 ? "Succeeded" : "Failed";
}

function render(record: WorkflowRecord): unknown {
  const name = record.object.metadata.name;
  const state = record.container?.state;
  const workflowPhase = phase(record);
  const node: Record<string, unknown> = {
    id: name,
    name,
    displayName: name,
    type: "Pod",
    templateName: "main",
    phase: record.podPending !== undefined ? "Pending" : workflowPhase,
  };
  if (record.podPending) node.message = record.podPending;
  if (state) node.startedAt = state.startedAt.toISOString();
  if (state?.kind === "terminated" && !record.error) {
    node.finishedAt = state.finishedAt.toISOString();
    node.outputs = { exitCode: String(state.exitCode) };
    if (state.exitCode !== 0) node.message = `Error (exit code ${state.exitCode})`;
  }
  if (record.error) node.message = record.error;
  return {
    ...record.object,
    status: {
      phase: workflowPhase,
      ...(state ? { startedAt: state.startedAt.toISOString() } : {}),
      ...(state?.kind === "terminated" ? { finishedAt: state.finishedAt.toISOString() } : {}),
      ...(node.message && record.podPending === undefined ? { message: node.message } : {}),
      nodes: workflowPhase === "Pending" && !record.error ? {} : { [name]: node },
    },
  };
}

/** grpc-gateway's error body: the gRPC code and message. */
function sendError(response: ServerResponse, status: number, code: number, message: string): void {
  sendJson(response, status, { code, message, details: [] });
}
