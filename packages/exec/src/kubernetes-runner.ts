/**
 * `kubernetes`: runs the command as a Pod through the Kubernetes API
 * (@kubernetes/client-node). The Pod's name is derived from the job identity,
 * so a re-dispatch after a lost response finds the Pod the first dispatch
 * created (409 AlreadyExists → follow that Pod). Logs are followed while the
 * container runs; the exit code is the container status's
 * terminated.exitCode; `secret://NAME/KEY` env becomes a secretKeyRef the
 * kubelet resolves. A succeeded Pod is deleted at once; a failed one is kept
 * for `failedRetentionMs` for inspection and then removed by the garbage
 * collector; a cancelled or timed-out one is deleted at once, and the API call
 * in flight at that moment is aborted.
 */
import { PassThrough } from "node:stream";
import { LineSplitter, sleep } from "@flotilla/process";
import {
  ApiException,
  type ConfigurationOptions,
  CoreV1Api,
  KubeConfig,
  Log,
  Observable,
  type ObservableMiddleware,
  type RequestContext,
  type ResponseContext,
  type V1Pod,
} from "@kubernetes/client-node";
import type { CollectableEnvironment, ManagedResource } from "./garbage-collector.js";
import {
  FLOTILLA_LABELS,
  flotillaLabels,
  JOB_ID_ANNOTATION,
  MANAGED_SELECTOR,
  runName,
  validateLabelKeys,
} from "./job-names.js";
import {
  DEFAULT_RETRY_POLICY,
  isNetworkError,
  isRetriableStatus,
  parseRetryAfter,
  type RetryPolicy,
  type RetryVerdict,
  retrying,
} from "./retry.js";
import { RunClock } from "./run-clock.js";
import {
  checkRunRequest,
  type LogLine,
  type SandboxRunner,
  type SandboxRunOptions,
  type SandboxRunRequest,
  type SandboxRunResult,
} from "./sandbox-runner.js";
import { kubernetesEnv } from "./secret-ref.js";
import { drainLogs } from "./wait-at-most.js";

/** A container waiting reason no retry of the kubelet can resolve: the run fails at once. */
const FATAL_WAITING_REASONS = new Set(["InvalidImageName"]);

/**
 * Container waiting reasons the kubelet keeps retrying (an image pull with back-off, a container whose Secret or
 * ConfigMap is missing): they may resolve (a registry back up, a Secret created a moment later), so the runner
 * waits, at most `pendingTimeoutMs`, and then deletes the Pod so that the kubelet stops and the job cannot
 * start after it was reported failed. Kubernetes docs, Images → "Image pull backoff": the kubelet keeps
 * trying, with a back-off up to 300 s.
 */
const RETRYING_WAITING_REASONS: Record<string, string> = {
  ErrImagePull: "check that the image exists and that the namespace can pull it (imagePullSecrets)",
  ImagePullBackOff: "check that the image exists and that the namespace can pull it (imagePullSecrets)",
  CreateContainerConfigError: "create the Secrets and ConfigMaps the Pod refers to, or fix the references",
  CreateContainerError: "see the Pod's events (kubectl describe pod) for why the runtime cannot create it",
};

/** Where a kubernetes environment's KubeConfig comes from (flotilla.yaml's `kubeconfig` and `context`). */
export interface KubeConfigSettings {
  /** Path of a kubeconfig file; default $KUBECONFIG, then ~/.kube/config, then the in-cluster service account. */
  readonly kubeconfig?: string;
  /** The context to use; default the file's current context. */
  readonly context?: string;
}

/** Loads the KubeConfig that `settings` describe. */
export function loadKubeConfig(settings: KubeConfigSettings = {}): KubeConfig {
  const config = new KubeConfig();
  if (settings.kubeconfig) config.loadFromFile(settings.kubeconfig);
  else config.loadFromDefault();
  if (settings.context) config.setCurrentContext(settings.context);
  return config;
}

/** Options of the Kubernetes runner. */
export interface KubernetesRunnerOptions {
  /** Where the cluster is and how to authenticate. */
  readonly kubeConfig: KubeConfig;
  /** Namespace the Pods are created in. */
  readonly namespace: string;
  /** How often Pod status is read. Default 1000 ms. */
  readonly pollIntervalMs?: number;
  /** How long a failed Pod is kept before the garbage collector removes it. Default 1 h; 0 deletes it at once. */
  readonly failedRetentionMs?: number;
  /** Retries of API calls that failed transiently (throttling, 5xx, lost connections). */
  readonly retryPolicy?: RetryPolicy;
  /** Service account the Pods run as. */
  readonly serviceAccountName?: string;
  /**
   * How long a Pod may stay unable to start (unschedulable, image pull back-off, missing Secret) or in phase
   * Unknown before the run fails and the Pod is deleted. Applies with or without a run timeout. Default 300 s.
   */
  readonly pendingTimeoutMs?: number;
}

/** What #follow found: the outcome, and whether the Pod must go whatever the retention (it never ran to an end). */
type FollowOutcome = Pick<SandboxRunResult, "exitCode" | "reason" | "message"> & { readonly deletePod?: boolean };

/** The container every Flotilla Pod runs its command in. */
const CONTAINER = "main";

/** Runs commands as Kubernetes Pods. */
export class KubernetesRunner implements SandboxRunner, CollectableEnvironment {
  readonly kind = "kubernetes";
  readonly #options: KubernetesRunnerOptions;
  readonly #core: CoreV1Api;
  readonly #log: Log;

  constructor(options: KubernetesRunnerOptions) {
    this.#options = options;
    this.#core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.#log = new Log(options.kubeConfig);
  }

  /** How long failed Pods are kept. */
  get failedRetentionMs(): number {
    return this.#options.failedRetentionMs ?? 3_600_000;
  }

  async run(request: SandboxRunRequest, options: SandboxRunOptions = {}): Promise<SandboxRunResult> {
    checkRunRequest(this.kind, request, { image: true });
    validateLabelKeys(this.kind, request.labels);
    const name = runName(request.jobIdentity, { idempotencyKey: request.idempotencyKey });
    const pod = this.#buildPod(name, request);
    const onLog = options.onLog ?? (() => {});
    const clock = new RunClock(options.signal, request.timeoutMs);
    const namespace = this.#options.namespace;
    let reused = false;
    try {
      try {
        await this.#call((call) => this.#core.createNamespacedPod({ namespace, body: pod }, call), clock.signal);
      } catch (error) {
        if (!(error instanceof ApiException && error.code === 409)) throw error;
        // Created by an earlier dispatch whose response was lost: follow that Pod.
        reused = true;
      }
      const { deletePod, ...outcome } = await this.#follow(name, clock, onLog);
      const finishedAt = new Date();
      const result: SandboxRunResult = { ...outcome, startedAt: clock.startedAt, finishedAt, runName: name, reused };
      if (deletePod || (result.exitCode === 0 && result.reason === "exited") || this.failedRetentionMs === 0)
        await this.#deleteQuietly(name, onLog);
      return result;
    } catch (error) {
      if (!clock.stopReason) throw error;
      await this.#deleteQuietly(name, onLog);
      return { ...clock.stoppedOutcome(), startedAt: clock.startedAt, finishedAt: new Date(), runName: name, reused };
    } finally {
      clock.dispose();
    }
  }

  async listManaged(): Promise<ManagedResource[]> {
    const list = await this.#call(() =>
      this.#core.listNamespacedPod({ namespace: this.#options.namespace, labelSelector: MANAGED_SELECTOR }),
    );
    return list.items.map((pod) => {
      const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
      const jobId = pod.metadata?.annotations?.[JOB_ID_ANNOTATION] ?? pod.metadata?.labels?.[FLOTILLA_LABELS.job];
      return {
        name: pod.metadata?.name ?? "",
        ...(jobId ? { jobId } : {}),
        state: terminated ? (terminated.exitCode === 0 ? "succeeded" : "failed") : "running",
        ...(terminated?.finishedAt ? { finishedAt: new Date(terminated.finishedAt) } : {}),
      } satisfies ManagedResource;
    });
  }

  async deleteManaged(name: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.#call(
        (call) => this.#core.deleteNamespacedPod({ namespace: this.#options.namespace, name }, call),
        signal,
      );
    } catch (error) {
      if (!(error instanceof ApiException && error.code === 404)) throw error;
    }
  }

  #buildPod(name: string, request: SandboxRunRequest): V1Pod {
    const env = kubernetesEnv(request);
    return {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name,
        labels: flotillaLabels(request.jobIdentity, request.labels, request.idempotencyKey),
        annotations: { [JOB_ID_ANNOTATION]: request.jobIdentity.jobId },
      },
      spec: {
        restartPolicy: "Never",
        ...(this.#options.serviceAccountName ? { serviceAccountName: this.#options.serviceAccountName } : {}),
        // A backstop in case this host dies mid-run: the kubelet stops the Pod itself.
        ...(request.timeoutMs ? { activeDeadlineSeconds: Math.ceil(request.timeoutMs / 1000) + 60 } : {}),
        containers: [
          {
            name: CONTAINER,
            image: request.image,
            command: [...request.command],
            env,
            ...(request.workingDir ? { workingDir: request.workingDir } : {}),
          },
        ],
      },
    };
  }

  /** Polls the Pod until its container terminated, following its log once it runs. */
  async #follow(name: string, clock: RunClock, onLog: (line: LogLine) => void): Promise<FollowOutcome> {
    const namespace = this.#options.namespace;
    const pendingTimeoutMs = this.#options.pendingTimeoutMs ?? 300_000;
    let logs: Promise<void> | undefined;
    const stopLogs = new AbortController();
    /** Since when the Pod has been stuck (unable to start, or Unknown), and why. */
    let stuckSince: number | undefined;
    for (;;) {
      const pod = await this.#call((call) => this.#core.readNamespacedPod({ namespace, name }, call), clock.signal);
      const state = pod.status?.containerStatuses?.find((status) => status.name === CONTAINER)?.state;
      const waiting = state?.waiting?.reason;
      const detail = state?.waiting?.message ? ` (${state.waiting.message})` : "";
      if (waiting && FATAL_WAITING_REASONS.has(waiting)) {
        return {
          exitCode: 1,
          reason: "failed",
          message: `Pod ${name} cannot start its container: ${waiting}${detail}; fix the image reference. The Pod was deleted.`,
          deletePod: true,
        };
      }
      if ((state?.running || state?.terminated) && !logs)
        logs = this.#followLogs(name, AbortSignal.any([clock.signal, stopLogs.signal]), onLog);
      if (state?.terminated) {
        await drainLogs(logs, stopLogs, `Pod ${name}`, onLog);
        return { exitCode: state.terminated.exitCode, reason: "exited", message: terminatedMessage(state.terminated) };
      }
      if (pod.status?.phase === "Failed" && !state?.terminated) {
        return {
          exitCode: 1,
          reason: "failed",
          message: `Pod ${name} failed: ${pod.status.reason ?? "unknown reason"} ${pod.status.message ?? ""}`.trim(),
        };
      }
      const stuck = stuckReason(pod, waiting, detail);
      if (stuck) {
        stuckSince ??= Date.now();
        if (Date.now() - stuckSince >= pendingTimeoutMs) {
          await drainLogs(logs, stopLogs, `Pod ${name}`, onLog);
          return {
            exitCode: 1,
            reason: "failed",
            message: `Pod ${name} ${stuck.what} for ${seconds(pendingTimeoutMs)}: ${stuck.why}; ${stuck.fix}, or raise pending_timeout_seconds. The Pod was deleted so that it cannot start after this failure.`,
            deletePod: true,
          };
        }
      } else stuckSince = undefined;
      await sleep(this.#options.pollIntervalMs ?? 1000, clock.signal);
    }
  }

  /** Streams the container's log to `onLog` until it ends; a failure becomes a warning line. */
  async #followLogs(name: string, signal: AbortSignal, onLog: (line: LogLine) => void): Promise<void> {
    const sink = new PassThrough();
    const splitter = new LineSplitter((text) => onLog({ stream: "stdout", text }));
    sink.on("data", (chunk: Buffer) => splitter.push(chunk));
    const ended = new Promise<void>((resolve) => sink.on("end", resolve).on("close", resolve));
    try {
      let streamError: unknown;
      // The client pipes the response into `sink` without an error handler on the response stream, so a
      // dropped connection or an abort would be an unhandled error: catch it on the source as it is piped.
      sink.once("pipe", (source: NodeJS.ReadableStream) => {
        source.on("error", (error: unknown) => {
          streamError = error;
          sink.end();
        });
      });
      const controller = await this.#log.log(this.#options.namespace, name, CONTAINER, sink, { follow: true });
      const abort = (): void => {
        controller.abort();
        sink.end();
      };
      signal.addEventListener("abort", abort, { once: true });
      await ended;
      signal.removeEventListener("abort", abort);
      splitter.flush();
      if (streamError !== undefined && !signal.aborted) throw streamError;
    } catch (error) {
      onLog({ stream: "system", text: `warning: could not fetch the log of Pod ${name}: ${describe(error)}` });
    }
  }

  async #deleteQuietly(name: string, onLog: (line: LogLine) => void): Promise<void> {
    try {
      // A fresh deadline: the run's own signal has usually fired already.
      await this.deleteManaged(name, AbortSignal.timeout(10_000));
    } catch (error) {
      onLog({
        stream: "system",
        text: `warning: could not delete Pod ${name}; the garbage collector will retry: ${describe(error)}`,
      });
    }
  }

  /** One API call with retries on throttling, 5xx and lost connections, abandoned when `signal` aborts. */
  #call<T>(operation: (call: ConfigurationOptions | undefined) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const call = signal ? abortWith(signal) : undefined;
    const attempt = (): Promise<T> => raceAbort(operation(call), signal);
    return retrying(attempt, classifyKubernetesError, this.#options.retryPolicy ?? DEFAULT_RETRY_POLICY, signal);
  }
}

function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}

/** Why a Pod cannot make progress by itself, if it cannot: unschedulable, a retrying container error, or Unknown. */
function stuckReason(
  pod: V1Pod,
  waiting: string | undefined,
  detail: string,
): { what: string; why: string; fix: string } | undefined {
  if (pod.status?.phase === "Unknown")
    return {
      what: "stayed in phase Unknown",
      why: `its node stopped reporting${pod.status.reason ? ` (${pod.status.reason})` : ""}`,
      fix: "check the node",
    };
  const scheduled = pod.status?.conditions?.find((condition) => condition.type === "PodScheduled");
  if (scheduled?.status === "False" && scheduled.reason === "Unschedulable")
    return {
      what: "could not be scheduled",
      why: `Unschedulable${scheduled.message ? ` (${scheduled.message})` : ""}`,
      fix: "free capacity or lower the Pod's requirements (resources, node selector, tolerations)",
    };
  const fix = waiting ? RETRYING_WAITING_REASONS[waiting] : undefined;
  if (waiting && fix) return { what: "could not start its container", why: `${waiting}${detail}`, fix };
  return undefined;
}

/** The message of a terminated container: its reason when it says more than "Completed"/"Error" (OOMKilled), and its message. */
function terminatedMessage(terminated: { reason?: string; message?: string; exitCode: number }): string {
  const parts: string[] = [];
  if (terminated.reason === "OOMKilled")
    parts.push(
      "OOMKilled: the container was killed for exceeding its memory limit; raise the limit or use less memory",
    );
  else if (terminated.reason && terminated.reason !== "Completed" && terminated.reason !== "Error")
    parts.push(terminated.reason);
  if (terminated.message) parts.push(terminated.message);
  return parts.join(": ");
}

function classifyKubernetesError(error: unknown): RetryVerdict {
  if (error instanceof ApiException) {
    const code = typeof error.code === "number" ? error.code : 0;
    const afterMs = parseRetryAfter(error.headers?.["retry-after"]);
    return { retry: isRetriableStatus(code), ...(afterMs !== undefined ? { afterMs } : {}) };
  }
  return { retry: isNetworkError(error) };
}

/** Per-call client options that hand `signal` to the client's fetch, so aborting it cancels the HTTP request in flight. */
function abortWith(signal: AbortSignal): ConfigurationOptions {
  const middleware: ObservableMiddleware = {
    pre: (context: RequestContext) => {
      context.setSignal(signal);
      return new Observable(Promise.resolve(context));
    },
    post: (context: ResponseContext) => new Observable(Promise.resolve(context)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: "append" };
}

/** Rejects as soon as `signal` aborts, even if the request is stuck somewhere the signal does not reach. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

function describe(error: unknown): string {
  if (error instanceof ApiException)
    return `HTTP ${error.code}: ${typeof error.body === "string" ? error.body.slice(0, 200) : error.message.slice(0, 200)}`;
  return error instanceof Error ? error.message : String(error);
}
