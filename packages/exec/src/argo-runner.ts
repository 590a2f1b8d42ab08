/**
 * `ephemeral`: runs the command as a single-container Argo Workflow
 * (entrypoint `main`) over the Argo server's HTTP API. The workflow's name is
 * derived from the job identity, so a re-dispatch finds the existing run
 * (409 → follow it). Status is polled (default every 2 s); Succeeded maps to
 * exit code 0 and Failed/Error to the container's real exit code when Argo
 * reports it (the pod node's outputs.exitCode), else 1. Logs are followed
 * while the workflow runs; a failed log fetch becomes a warning line, not a
 * failed job. ttlStrategy.secondsAfterCompletion (default 300 s) lets Argo's
 * controller remove finished workflows. On cancel or timeout the in-flight
 * HTTP call is aborted at once and the workflow is deleted best-effort with a
 * fresh short deadline. `secret://NAME/KEY` env becomes a secretKeyRef.
 */
import { sleep } from "@flotilla/process";
import { ArgoApiError, ArgoClient, type ArgoConnection, type ArgoWorkflow } from "./argo-client.js";
import type { CollectableEnvironment, ManagedResource } from "./garbage-collector.js";
import {
  FLOTILLA_LABELS,
  flotillaLabels,
  JOB_ID_ANNOTATION,
  MANAGED_SELECTOR,
  runName,
  validateLabelKeys,
} from "./job-names.js";
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

/** Options of the Argo ephemeral runner. */
export interface ArgoRunnerOptions extends ArgoConnection {
  /** Namespace the workflows are submitted to. */
  readonly namespace: string;
  /** How often workflow status is read. Default 2000 ms. */
  readonly pollIntervalMs?: number;
  /** ttlStrategy.secondsAfterCompletion. Default 300. */
  readonly ttlSecondsAfterCompletion?: number;
  /** ttlStrategy.secondsAfterFailure: keep failed workflows longer for inspection. Unset: as completion. */
  readonly ttlSecondsAfterFailure?: number;
  /** Deadline of the best-effort delete after a cancel. Default 5000 ms. */
  readonly cancelDeleteTimeoutMs?: number;
  /** Service account the workflow's pod runs as. */
  readonly serviceAccountName?: string;
  /**
   * How long a workflow may stay unable to start — not picked up by the controller (phase Pending), or its pod
   * node Pending on an image pull, a missing Secret or an unschedulable pod — before the run fails and the
   * workflow is deleted. Applies with or without a run timeout. Default 300 s.
   */
  readonly pendingTimeoutMs?: number;
}

/**
 * The pod-node messages of a pod that waits on something the kubelet or scheduler retries. Argo copies the
 * pod's waiting reason into the node's message as "<reason>: <message>" (argo-workflows
 * workflow/controller/operator.go, getPendingReason) and keeps the workflow Running.
 */
const STUCK_NODE_REASONS: Record<string, string> = {
  ErrImagePull: "check that the image exists and that the namespace can pull it (imagePullSecrets)",
  ImagePullBackOff: "check that the image exists and that the namespace can pull it (imagePullSecrets)",
  InvalidImageName: "fix the image reference",
  CreateContainerConfigError: "create the Secrets and ConfigMaps the workflow refers to, or fix the references",
  CreateContainerError: "see the pod's events (kubectl describe pod) for why the runtime cannot create it",
  Unschedulable: "free capacity or lower the pod's requirements (resources, node selector, tolerations)",
};

/** Argo's terminal workflow phases. */
const TERMINAL_PHASES = new Set(["Succeeded", "Failed", "Error"]);
/** The single template every Flotilla workflow runs. */
const ENTRYPOINT = "main";
/** Argo runs a template's container under this name. */
const CONTAINER = "main";

/** Runs commands as single-container Argo Workflows. */
export class ArgoRunner implements SandboxRunner, CollectableEnvironment {
  readonly kind = "ephemeral";
  readonly #options: ArgoRunnerOptions;
  readonly #client: ArgoClient;

  constructor(options: ArgoRunnerOptions) {
    this.#options = options;
    this.#client = new ArgoClient(options);
  }

  async run(request: SandboxRunRequest, options: SandboxRunOptions = {}): Promise<SandboxRunResult> {
    checkRunRequest(this.kind, request, { image: true });
    // A Workflow is a Kubernetes object: the API server validates its labels as it does a Pod's.
    validateLabelKeys(this.kind, request.labels);
    // Argo derives pod names from the workflow's; leave room under 63 characters.
    const name = runName(request.jobIdentity, { maxLength: 52, idempotencyKey: request.idempotencyKey });
    const workflow = this.buildWorkflow(name, request);
    const onLog = options.onLog ?? (() => {});
    const clock = new RunClock(options.signal, request.timeoutMs);
    const namespace = this.#options.namespace;
    let reused = false;
    try {
      try {
        await this.#client.createWorkflow(namespace, workflow, clock.signal);
      } catch (error) {
        if (!(error instanceof ArgoApiError && error.status === 409)) throw error;
        reused = true;
      }
      const outcome = await this.#follow(name, clock.signal, onLog);
      return { ...outcome, startedAt: clock.startedAt, finishedAt: new Date(), runName: name, reused };
    } catch (error) {
      if (!clock.stopReason) throw error;
      await this.#deleteAfterCancel(name, onLog);
      return { ...clock.stoppedOutcome(), startedAt: clock.startedAt, finishedAt: new Date(), runName: name, reused };
    } finally {
      clock.dispose();
    }
  }

  /** The Workflow object submitted for a request (exposed for inspection and tests). */
  buildWorkflow(name: string, request: SandboxRunRequest): Record<string, unknown> {
    const env = kubernetesEnv(request);
    return {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Workflow",
      metadata: {
        name,
        labels: flotillaLabels(request.jobIdentity, request.labels, request.idempotencyKey),
        annotations: { [JOB_ID_ANNOTATION]: request.jobIdentity.jobId },
      },
      spec: {
        entrypoint: ENTRYPOINT,
        ttlStrategy: {
          secondsAfterCompletion: this.#options.ttlSecondsAfterCompletion ?? 300,
          ...(this.#options.ttlSecondsAfterFailure !== undefined
            ? { secondsAfterFailure: this.#options.ttlSecondsAfterFailure }
            : {}),
        },
        // A backstop in case this host dies mid-run: Argo stops the workflow itself.
        ...(request.timeoutMs ? { activeDeadlineSeconds: Math.ceil(request.timeoutMs / 1000) + 60 } : {}),
        ...(this.#options.serviceAccountName ? { serviceAccountName: this.#options.serviceAccountName } : {}),
        templates: [
          {
            name: ENTRYPOINT,
            container: {
              image: request.image,
              command: [...request.command],
              env,
              ...(request.workingDir ? { workingDir: request.workingDir } : {}),
            },
          },
        ],
      },
    };
  }

  async listManaged(): Promise<ManagedResource[]> {
    const workflows = await this.#client.listWorkflows(this.#options.namespace, MANAGED_SELECTOR);
    return workflows.map((workflow) => {
      const phase = workflow.status?.phase ?? "Pending";
      const jobId =
        workflow.metadata.annotations?.[JOB_ID_ANNOTATION] ?? workflow.metadata.labels?.[FLOTILLA_LABELS.job];
      return {
        name: workflow.metadata.name,
        ...(jobId ? { jobId } : {}),
        state: phase === "Succeeded" ? "succeeded" : TERMINAL_PHASES.has(phase) ? "failed" : "running",
        ...(workflow.status?.finishedAt ? { finishedAt: new Date(workflow.status.finishedAt) } : {}),
      } satisfies ManagedResource;
    });
  }

  deleteManaged(name: string): Promise<void> {
    return this.#client.deleteWorkflow(this.#options.namespace, name, AbortSignal.timeout(10_000));
  }

  async #follow(
    name: string,
    signal: AbortSignal,
    onLog: (line: LogLine) => void,
  ): Promise<Pick<SandboxRunResult, "exitCode" | "reason" | "message">> {
    const namespace = this.#options.namespace;
    const pendingTimeoutMs = this.#options.pendingTimeoutMs ?? 300_000;
    let logs: Promise<void> | undefined;
    const stopLogs = new AbortController();
    let stuckSince: number | undefined;
    for (;;) {
      let workflow: ArgoWorkflow;
      try {
        workflow = await this.#client.getWorkflow(namespace, name, signal);
      } catch (error) {
        if (!(error instanceof ArgoApiError && error.status === 404)) throw error;
        // Deleted by someone else, or expired by a TTL shorter than the poll interval.
        await drainLogs(logs, stopLogs, `workflow ${name}`, onLog);
        return {
          exitCode: 1,
          reason: "failed",
          message: `workflow ${name} disappeared before its outcome was read (deleted, or removed by a ttlStrategy shorter than the poll interval)`,
        };
      }
      const phase = workflow.status?.phase ?? "Pending";
      if (phase !== "Pending" && !logs)
        logs = this.#followLogs(name, AbortSignal.any([signal, stopLogs.signal]), onLog);
      if (TERMINAL_PHASES.has(phase)) {
        await drainLogs(logs, stopLogs, `workflow ${name}`, onLog);
        return outcomeOf(workflow, phase);
      }
      const stuck = stuckReason(workflow, phase);
      if (stuck) {
        stuckSince ??= Date.now();
        if (Date.now() - stuckSince >= pendingTimeoutMs) {
          await drainLogs(logs, stopLogs, `workflow ${name}`, onLog);
          await this.#deleteAfterCancel(name, onLog);
          return {
            exitCode: 1,
            reason: "failed",
            message: `workflow ${name} ${stuck.what} for ${duration(pendingTimeoutMs)}: ${stuck.why}; ${stuck.fix}, or raise pending_timeout_seconds. The workflow was deleted so that it cannot start after this failure.`,
          };
        }
      } else stuckSince = undefined;
      await sleep(this.#options.pollIntervalMs ?? 2000, signal);
    }
  }

  async #followLogs(name: string, signal: AbortSignal, onLog: (line: LogLine) => void): Promise<void> {
    try {
      for await (const text of this.#client.logs(this.#options.namespace, name, CONTAINER, true, signal)) {
        onLog({ stream: "stdout", text });
      }
    } catch (error) {
      if (signal.aborted) return;
      onLog({
        stream: "system",
        text: `warning: could not fetch the log of workflow ${name}: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  }

  async #deleteAfterCancel(name: string, onLog: (line: LogLine) => void): Promise<void> {
    try {
      // A fresh deadline: the run's own signal has fired already.
      await this.#client.deleteWorkflow(
        this.#options.namespace,
        name,
        AbortSignal.timeout(this.#options.cancelDeleteTimeoutMs ?? 5000),
      );
    } catch (error) {
      onLog({
        stream: "system",
        text: `warning: could not delete workflow ${name} after cancel; its TTL or the garbage collector will remove it: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  }
}

/** Why a non-terminal workflow cannot make progress by itself, if it cannot. */
function stuckReason(workflow: ArgoWorkflow, phase: string): { what: string; why: string; fix: string } | undefined {
  if (phase === "Pending")
    return {
      what: "was not started by the workflow controller",
      why: "it stayed in phase Pending",
      fix: "check that the Argo workflow controller runs and watches this namespace",
    };
  const pod = Object.values(workflow.status?.nodes ?? {}).find((node) => node.type === "Pod");
  if (pod?.phase !== "Pending" || !pod.message) return undefined;
  const reason = pod.message.split(":")[0] ?? "";
  const fix = STUCK_NODE_REASONS[reason];
  return fix ? { what: "could not start its pod", why: pod.message, fix } : undefined;
}

function duration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}

/** Maps a terminal workflow to an outcome, preferring the pod node's real exit code. */
function outcomeOf(workflow: ArgoWorkflow, phase: string): Pick<SandboxRunResult, "exitCode" | "reason" | "message"> {
  const pod = Object.values(workflow.status?.nodes ?? {}).find((node) => node.type === "Pod");
  const reported = pod?.outputs?.exitCode;
  const exitCode = reported !== undefined && /^-?\d+$/.test(reported) ? Number(reported) : undefined;
  if (phase === "Succeeded") return { exitCode: exitCode ?? 0, reason: "exited", message: "" };
  const message = workflow.status?.message ?? pod?.message ?? "";
  if (exitCode !== undefined) return { exitCode, reason: "exited", message };
  return { exitCode: 1, reason: "failed", message: `workflow ended in phase ${phase}${message ? `: ${message}` : ""}` };
}
