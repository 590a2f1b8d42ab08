/**
 * A wire-level fake of the Kubernetes API server, enough of core/v1 pods for
 * a real @kubernetes/client-node: create, get, list by label selector,
 * delete, and pods/log with follow=true streaming. A Pod's container runs as
 * a local process (see ProcessContainer), env valueFrom.secretKeyRef is
 * resolved from Secrets the test puts in {@link FakeKubernetes.secrets}, and
 * status carries the container's real terminated.exitCode. It simulates slow
 * starts (Pending for `startDelayMs`), image pull failures, throttling and
 * lost responses (see {@link FaultPlan}). No watch: runners poll.
 */
import type { Server, ServerResponse } from "node:http";
import { closeFakeServer, FaultPlan, type RecordedRequest, sendJson, startFakeServer } from "./fake-http.js";
import { ProcessContainer } from "./process-container.js";

/** Options of the fake API server. */
export interface FakeKubernetesOptions {
  /** How long each Pod stays Pending before its container starts. Default 0. */
  readonly startDelayMs?: number;
  /**
   * Images that fail to pull. Their Pods stay Pending while the fake kubelet retries the pull, as the real one
   * does: the container waits with reason ErrImagePull during an attempt, then ImagePullBackOff until the next,
   * the back-off doubling from `pullBackOffMs` (the kubelet's limit is 300 s). An image taken off this list
   * with {@link FakeKubernetes.makePullable} is pulled at the next attempt and the container starts.
   * Source: Kubernetes docs, Concepts → Containers → Images, "Image pull backoff".
   */
  readonly unpullableImages?: readonly string[];
  /** First back-off between pull attempts of an unpullable image. Default 200 ms (the kubelet starts at 10 s). */
  readonly pullBackOffMs?: number;
  /**
   * How often the fake kubelet retries creating a container whose env refers to a missing Secret
   * (CreateContainerConfigError); it starts once the Secret exists. Default 100 ms.
   */
  readonly configRetryMs?: number;
}

interface ContainerSpec {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
}

interface PodObject {
  apiVersion: "v1";
  kind: "Pod";
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp: string;
    resourceVersion: string;
  };
  spec: { containers: ContainerSpec[]; restartPolicy?: string; activeDeadlineSeconds?: number };
}

interface PodRecord {
  object: PodObject;
  container: ProcessContainer | undefined;
  waitingReason: string | undefined;
  waitingMessage: string | undefined;
  startTimer: NodeJS.Timeout | undefined;
  /** Not yet scheduled: Pending with the PodScheduled condition False, reason Unschedulable, no container statuses. */
  unschedulable: string | undefined;
  /** The node stopped reporting: phase Unknown. */
  unknown: boolean;
}

/** The fake API server. Start it with {@link start}, point a KubeConfig at {@link url}. */
export class FakeKubernetes {
  /** Every request received, in order. */
  readonly requests: RecordedRequest[] = [];
  /** Faults to inject. */
  readonly faults = new FaultPlan();
  /** Secrets by "namespace/name", key to value, for secretKeyRef resolution. */
  readonly secrets = new Map<string, Record<string, string>>();
  /** How many Pods were ever created (a re-dispatch must not raise it). */
  podsCreated = 0;
  /** Log requests fail with 500 while true. */
  failLogs = false;
  /** Extra time every GET of a Pod takes, to catch a client that cannot abort in flight. */
  readDelayMs = 0;
  /** Delayed reads the client gave up on (closed the connection) before the answer came. */
  abortedReads = 0;
  /**
   * While set, new Pods are not scheduled: they stay Pending with condition PodScheduled=False, reason
   * Unschedulable and this message (e.g. "0/3 nodes are available: 3 Insufficient cpu."), and no
   * containerStatuses, as the scheduler leaves a Pod no node fits. Source: Kubernetes docs, Pod Lifecycle →
   * Pod conditions (PodScheduled; reason Unschedulable when the scheduler cannot place it).
   */
  unschedulable: string | undefined;
  readonly #unpullable: Set<string>;
  readonly #pods = new Map<string, PodRecord>();
  readonly #options: FakeKubernetesOptions;
  #server: Server | undefined;
  #url = "";
  #nextVersion = 1;

  constructor(options: FakeKubernetesOptions = {}) {
    this.#options = options;
    this.#unpullable = new Set(options.unpullableImages ?? []);
  }

  /** Lets `image` be pulled from now on: a Pod retrying its pull starts at the next attempt. */
  makePullable(image: string): void {
    this.#unpullable.delete(image);
  }

  /**
   * Marks a Pod's node as lost: the Pod's phase becomes Unknown ("the state of the Pod could not be obtained …
   * typically due to an error in communicating with the node", Kubernetes docs, Pod Lifecycle → Pod phase).
   */
  markUnknown(namespace: string, name: string): void {
    const record = this.#pods.get(`${namespace}/${name}`);
    if (record) record.unknown = true;
  }

  /**
   * The kernel's OOM killer ends the Pod's container: it is killed and reported terminated with reason
   * OOMKilled and exit code 137, as in the Kubernetes docs' "Assign Memory Resources to Containers and Pods"
   * (a container over its memory limit: "reason: OOMKilled", "exitCode: 137").
   */
  oomKill(namespace: string, name: string): void {
    this.#pods.get(`${namespace}/${name}`)?.container?.kill("OOMKilled");
  }

  /** The base URL, e.g. http://127.0.0.1:40123. */
  get url(): string {
    return this.#url;
  }

  /** Starts listening on 127.0.0.1 on a free port. */
  async start(): Promise<this> {
    const { server, url } = await startFakeServer(
      (request, url, body, response) => this.#handle(request.method ?? "GET", url, body, response),
      this.faults,
      this.requests,
    );
    this.#server = server;
    this.#url = url;
    return this;
  }

  /** Kills every Pod's process and stops the server. */
  async close(): Promise<void> {
    for (const record of this.#pods.values()) this.#stopPod(record);
    this.#pods.clear();
    if (this.#server) await closeFakeServer(this.#server);
  }

  /** Names of the Pods that exist now in `namespace`. */
  podNames(namespace = "default"): string[] {
    return [...this.#pods.values()]
      .filter((p) => p.object.metadata.namespace === namespace)
      .map((p) => p.object.metadata.name);
  }

  /** Adds a Pod directly, as if someone else had created it (for garbage-collector tests). */
  seedPod(
    namespace: string,
    name: string,
    labels: Record<string, string>,
    annotations: Record<string, string> = {},
    command = ["true"],
  ): void {
    this.#createPod(namespace, {
      metadata: { name, labels, annotations },
      spec: { containers: [{ name: "main", command }] },
    } as unknown as PodObject);
  }

  #handle(method: string, url: URL, body: string, response: ServerResponse): void {
    const parts = url.pathname.split("/").filter(Boolean);
    // /api/v1/namespaces/{ns}/pods[/{name}[/log]]
    if (parts[0] !== "api" || parts[1] !== "v1" || parts[2] !== "namespaces" || parts[4] !== "pods" || !parts[3]) {
      sendStatus(response, 404, "NotFound", `fake kubernetes: no route for ${method} ${url.pathname}`);
      return;
    }
    const namespace = parts[3];
    const name = parts[5];
    const sub = parts[6];
    if (!name && method === "POST") {
      this.#create(namespace, body, response);
      return;
    }
    if (!name && method === "GET") {
      this.#list(namespace, url, response);
      return;
    }
    if (!name) {
      sendStatus(response, 405, "MethodNotAllowed", `fake kubernetes: ${method} not allowed on pods`);
      return;
    }
    const record = this.#pods.get(`${namespace}/${name}`);
    if (!record) {
      sendStatus(response, 404, "NotFound", `pods "${name}" not found`);
      return;
    }
    if (sub === "log" && method === "GET") {
      this.#log(record, url, response);
      return;
    }
    if (!sub && method === "GET") {
      this.#answerRead(record, response);
      return;
    }
    if (!sub && method === "DELETE") {
      this.#stopPod(record);
      this.#pods.delete(`${namespace}/${name}`);
      sendJson(response, 200, this.#render(record));
      return;
    }
    sendStatus(response, 405, "MethodNotAllowed", `fake kubernetes: ${method} not allowed on ${url.pathname}`);
  }

  #answerRead(record: PodRecord, response: ServerResponse): void {
    if (this.readDelayMs <= 0) {
      sendJson(response, 200, this.#render(record));
      return;
    }
    const timer = setTimeout(() => {
      if (!response.destroyed) sendJson(response, 200, this.#render(record));
    }, this.readDelayMs);
    response.on("close", () => {
      if (response.writableEnded) return;
      this.abortedReads += 1;
      clearTimeout(timer);
    });
  }

  #create(namespace: string, body: string, response: ServerResponse): void {
    const pod = JSON.parse(body) as PodObject;
    const name = pod.metadata?.name;
    if (!name) {
      sendStatus(response, 422, "Invalid", "Pod is invalid: metadata.name: Required value");
      return;
    }
    const invalid = Object.keys(pod.metadata.labels ?? {}).flatMap((key) => {
      const problem = labelKeyProblem(key);
      return problem ? [`metadata.labels: Invalid value: ${JSON.stringify(key)}: ${problem}`] : [];
    });
    if (invalid.length > 0) {
      sendStatus(response, 422, "Invalid", `Pod ${JSON.stringify(name)} is invalid: ${invalid.join(", ")}`);
      return;
    }
    if (this.#pods.has(`${namespace}/${name}`)) {
      sendStatus(response, 409, "AlreadyExists", `pods "${name}" already exists`);
      return;
    }
    const record = this.#createPod(namespace, pod);
    if (this.faults.takeLostCreate()) {
      response.destroy();
      return;
    }
    sendJson(response, 201, this.#render(record));
  }

  #createPod(namespace: string, pod: PodObject): PodRecord {
    this.podsCreated += 1;
    const object: PodObject = {
      ...pod,
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        ...pod.metadata,
        namespace,
        uid: `uid-${this.#nextVersion}`,
        creationTimestamp: new Date().toISOString(),
        resourceVersion: String(this.#nextVersion++),
      },
    };
    const record: PodRecord = {
      object,
      container: undefined,
      waitingReason: "ContainerCreating",
      waitingMessage: undefined,
      startTimer: undefined,
      unschedulable: this.unschedulable,
      unknown: false,
    };
    this.#pods.set(`${namespace}/${object.metadata.name}`, record);
    // An unschedulable Pod stays so: this fake has no nodes joining later.
    if (record.unschedulable !== undefined) return record;
    record.startTimer = setTimeout(() => this.#pull(record, namespace, 0), this.#options.startDelayMs ?? 0);
    return record;
  }

  /** One pull attempt; a failed one backs off (doubling) and tries again, as the kubelet does. */
  #pull(record: PodRecord, namespace: string, attempt: number): void {
    const image = record.object.spec.containers[0]?.image;
    if (!image || !this.#unpullable.has(image)) {
      this.#startContainer(record, namespace);
      return;
    }
    const backOff = Math.min((this.#options.pullBackOffMs ?? 200) * 2 ** attempt, 300_000);
    record.waitingReason = "ErrImagePull";
    record.waitingMessage = `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": not found`;
    // The attempt fails at once; the kubelet then reports the back-off until the next one.
    record.startTimer = setTimeout(
      () => {
        record.waitingReason = "ImagePullBackOff";
        record.waitingMessage = `Back-off pulling image "${image}"`;
        record.startTimer = setTimeout(() => this.#pull(record, namespace, attempt + 1), backOff);
      },
      Math.min(50, backOff),
    );
  }

  #startContainer(record: PodRecord, namespace: string): void {
    record.startTimer = undefined;
    const spec = record.object.spec.containers[0];
    if (!spec) return;
    const env: Record<string, string> = {};
    for (const variable of spec.env ?? []) {
      const ref = variable.valueFrom?.secretKeyRef;
      if (ref) {
        const value = this.secrets.get(`${namespace}/${ref.name}`)?.[ref.key];
        if (value === undefined) {
          // The kubelet keeps the container waiting and retries on each sync; it starts once the Secret exists.
          record.waitingReason = "CreateContainerConfigError";
          record.waitingMessage = `secret "${ref.name}" not found`;
          record.startTimer = setTimeout(
            () => this.#startContainer(record, namespace),
            this.#options.configRetryMs ?? 100,
          );
          return;
        }
        env[variable.name] = value;
      } else env[variable.name] = variable.value ?? "";
    }
    record.waitingReason = undefined;
    record.waitingMessage = undefined;
    record.container = new ProcessContainer({
      command: [...(spec.command ?? []), ...(spec.args ?? [])],
      env,
      ...(spec.workingDir ? { workingDir: spec.workingDir } : {}),
    });
    const deadline = record.object.spec.activeDeadlineSeconds;
    if (deadline) setTimeout(() => record.container?.kill(), deadline * 1000).unref();
  }

  #stopPod(record: PodRecord): void {
    if (record.startTimer) clearTimeout(record.startTimer);
    record.container?.kill();
  }

  #list(namespace: string, url: URL, response: ServerResponse): void {
    const selector = parseSelector(url.searchParams.get("labelSelector") ?? "");
    const items = [...this.#pods.values()]
      .filter((p) => p.object.metadata.namespace === namespace)
      .filter((p) => selector.every(([key, value]) => p.object.metadata.labels?.[key] === value))
      .map((p) => this.#render(p));
    sendJson(response, 200, {
      apiVersion: "v1",
      kind: "PodList",
      metadata: { resourceVersion: String(this.#nextVersion) },
      items,
    });
  }

  #log(record: PodRecord, url: URL, response: ServerResponse): void {
    if (this.failLogs) {
      sendStatus(response, 500, "InternalError", "fake kubernetes: log retrieval failed (simulated)");
      return;
    }
    const container = record.container;
    if (!container) {
      sendStatus(
        response,
        400,
        "BadRequest",
        `container "main" in pod "${record.object.metadata.name}" is waiting to start: ${record.waitingReason ?? "ContainerCreating"}`,
      );
      return;
    }
    response.writeHead(200, { "content-type": "text/plain" });
    response.write(container.log);
    if (url.searchParams.get("follow") !== "true" || container.state.kind === "terminated") {
      response.end();
      return;
    }
    const onOutput = (chunk: string): void => {
      response.write(chunk);
    };
    container.on("output", onOutput);
    container.once("exit", () => {
      container.off("output", onOutput);
      response.end();
    });
    response.on("close", () => container.off("output", onOutput));
  }

  #render(record: PodRecord): unknown {
    const state = record.container?.state;
    const containerName = record.object.spec.containers[0]?.name ?? "main";
    let phase = "Pending";
    let containerState: unknown = {
      waiting: {
        reason: record.waitingReason ?? "ContainerCreating",
        ...(record.waitingMessage ? { message: record.waitingMessage } : {}),
      },
    };
    if (state?.kind === "running") {
      phase = "Running";
      containerState = { running: { startedAt: state.startedAt.toISOString() } };
    } else if (state?.kind === "terminated") {
      phase = state.exitCode === 0 ? "Succeeded" : "Failed";
      containerState = {
        terminated: {
          exitCode: state.exitCode,
          reason: state.reason,
          startedAt: state.startedAt.toISOString(),
          finishedAt: state.finishedAt.toISOString(),
        },
      };
    }
    if (record.unschedulable !== undefined) {
      return {
        ...record.object,
        status: {
          phase: "Pending",
          conditions: [
            { type: "PodScheduled", status: "False", reason: "Unschedulable", message: record.unschedulable },
          ],
        },
      };
    }
    if (record.unknown) phase = "Unknown";
    return {
      ...record.object,
      status: {
        phase,
        ...(state ? { startTime: state.startedAt.toISOString() } : {}),
        containerStatuses: [
          {
            name: containerName,
            image: record.object.spec.containers[0]?.image ?? "",
            ready: state?.kind === "running",
            restartCount: 0,
            state: containerState,
          },
        ],
      },
    };
  }
}

function sendStatus(response: ServerResponse, code: number, reason: string, message: string): void {
  sendJson(response, code, {
    apiVersion: "v1",
    kind: "Status",
    metadata: {},
    status: "Failure",
    message,
    reason,
    code,
  });
}

function parseSelector(selector: string): [string, string][] {
  return selector
    .split(",")
    .filter(Boolean)
    .map((term) => {
      const [key = "", value = ""] = term.split("=");
      return [key, value];
    });
}

/**
 * The API server's label key rule (ObjectMeta validation → ValidateLabels → IsQualifiedName in
 * k8s.io/apimachinery/pkg/util/validation/validation.go; documented at
 * https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set):
 * `[prefix/]name`, prefix a DNS-1123 subdomain of at most 253 characters, name at most 63 characters
 * matching `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`. Messages paraphrase apimachinery's.
 */
function labelKeyProblem(key: string): string | undefined {
  const parts = key.split("/");
  if (parts.length > 2)
    return "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character with an optional DNS subdomain prefix and '/'";
  const name = parts.at(-1) ?? "";
  const prefix = parts.length === 2 ? (parts[0] ?? "") : undefined;
  if (prefix !== undefined) {
    if (prefix.length === 0) return "prefix part must be non-empty";
    if (prefix.length > 253) return "prefix part must be no more than 253 characters";
    if (!/^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/.test(prefix))
      return "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
  }
  if (name.length === 0) return "name part must be non-empty";
  if (name.length > 63) return "name part must be no more than 63 characters";
  if (!/^(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/.test(name))
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  return undefined;
}
