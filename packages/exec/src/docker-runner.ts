/**
 * `local-docker`: runs the command in a container through the Docker Engine
 * API (dockerode), which Docker and Podman's compatible API service both
 * speak. The container's name is derived from the job identity, so a
 * re-dispatch finds the container already created (409 → follow it). Logs
 * are followed and demultiplexed into stdout and stderr; the exit code comes
 * from the wait endpoint. A finished container is removed at once when it
 * succeeded, or when it failed and no retention is configured; otherwise
 * the garbage collector removes it after the retention time. Secret env is
 * resolved on this machine by a configured resolver, since the local engine
 * is where it resolves.
 */
import { PassThrough } from "node:stream";
import { LineSplitter, sleep } from "@flotilla/process";
import Docker from "dockerode";
import type { CollectableEnvironment, ManagedResource } from "./garbage-collector.js";
import { FLOTILLA_LABELS, flotillaLabels, JOB_ID_ANNOTATION, MANAGED_SELECTOR, runName } from "./job-names.js";
import { RunClock } from "./run-clock.js";
import {
  checkRunRequest,
  type LogLine,
  type SandboxRunner,
  type SandboxRunOptions,
  type SandboxRunRequest,
  type SandboxRunResult,
} from "./sandbox-runner.js";
import { resolveSecretEnv, type SecretResolver } from "./secret-ref.js";
import { drainLogs } from "./wait-at-most.js";

/**
 * The Docker Engine API version every request is made with (`/v1.44/...`). Pinned so that an engine upgrade
 * cannot change what the runner's requests mean: 1.44 (Docker Engine 25) is the oldest version Docker
 * Engine 29 still serves, and Podman's compatible service accepts it. Docker Engine API reference,
 * "Versioned API and SDK": the daemon serves older versions in their old meaning.
 */
export const DOCKER_API_VERSION = "v1.44";

/** Registry credentials for a pull, as the X-Registry-Auth header carries them (Docker Engine API, "Authentication"). */
export type DockerRegistryAuth =
  | { readonly username: string; readonly password: string; readonly serveraddress?: string }
  | { readonly identitytoken: string; readonly serveraddress?: string };

/** Options of the local-docker runner. */
export interface DockerRunnerOptions {
  /** The engine's Unix socket, e.g. /var/run/docker.sock or Podman's service socket. */
  readonly socketPath?: string;
  /** Or an engine over TCP, e.g. http://127.0.0.1:2375. */
  readonly host?: string;
  /** Pull an image the engine does not have ("missing", the default) or fail ("never"). */
  readonly pull?: "missing" | "never";
  /** How long a failed container is kept before the garbage collector removes it. Default 0: removed at once. */
  readonly failedRetentionMs?: number;
  /** Resolves `secret://` references into the container's environment. */
  readonly resolveSecret?: SecretResolver;
  /**
   * The credentials to pull `image` with (from its registry, `registry` being e.g. "ghcr.io" or
   * "docker.io"), or undefined to pull anonymously. Sent as X-Registry-Auth on the pull only.
   */
  readonly registryAuth?: (
    registry: string,
    image: string,
  ) => DockerRegistryAuth | undefined | Promise<DockerRegistryAuth | undefined>;
  /** The Engine API version to speak; default {@link DOCKER_API_VERSION}. */
  readonly apiVersion?: string;
}

/** Runs commands in containers through the Docker Engine API. */
export class DockerRunner implements SandboxRunner, CollectableEnvironment {
  readonly kind = "local-docker";
  readonly #options: DockerRunnerOptions;
  readonly #docker: Docker;
  /** Runs in flight by container name: a re-dispatch from this process joins the running one. */
  readonly #inFlight = new Map<string, Promise<SandboxRunResult>>();

  constructor(options: DockerRunnerOptions) {
    this.#options = options;
    const version = options.apiVersion ?? DOCKER_API_VERSION;
    if (options.host) {
      const url = new URL(options.host);
      this.#docker = new Docker({
        host: url.hostname,
        port: Number(url.port),
        protocol: url.protocol === "https:" ? "https" : "http",
        version,
      });
    } else this.#docker = new Docker({ socketPath: options.socketPath ?? "/var/run/docker.sock", version });
  }

  run(request: SandboxRunRequest, options: SandboxRunOptions = {}): Promise<SandboxRunResult> {
    const name = runName(request.jobIdentity, { idempotencyKey: request.idempotencyKey });
    const existing = this.#inFlight.get(name);
    if (existing) return existing.then((result) => ({ ...result, reused: true }));
    const started = this.#run(name, request, options).finally(() => this.#inFlight.delete(name));
    this.#inFlight.set(name, started);
    return started;
  }

  async #run(name: string, request: SandboxRunRequest, options: SandboxRunOptions): Promise<SandboxRunResult> {
    checkRunRequest(this.kind, request, { image: true });
    const secrets = await resolveSecretEnv(this.kind, request.secretEnv, this.#options.resolveSecret);
    const onLog = options.onLog ?? (() => {});
    const clock = new RunClock(options.signal, request.timeoutMs);
    let reused = false;
    const container = this.#docker.getContainer(name);
    try {
      const createOptions: Docker.ContainerCreateOptions = {
        name,
        Image: request.image,
        // The command replaces the image's ENTRYPOINT, as Kubernetes' `command`, Argo's container `command`
        // and ECS's `entryPoint` do: Docker appends Cmd to the image's ENTRYPOINT, so setting only Cmd would
        // run a different program here than on every other runner (Docker Engine API, ContainerCreate:
        // Entrypoint, Cmd; Dockerfile reference, "Understand how CMD and ENTRYPOINT interact").
        Entrypoint: [request.command[0] ?? ""],
        Cmd: request.command.slice(1),
        Env: Object.entries({ ...request.env, ...secrets }).map(([key, value]) => `${key}=${value}`),
        Labels: {
          ...flotillaLabels(request.jobIdentity, request.labels, request.idempotencyKey),
          [JOB_ID_ANNOTATION]: request.jobIdentity.jobId,
        },
        ...(request.workingDir ? { WorkingDir: request.workingDir } : {}),
        AttachStdout: false,
        AttachStderr: false,
        Tty: false,
      };
      reused = await this.#create(createOptions);
      // A container found by a re-dispatch may be running or done already; start only a fresh one.
      const state = (await this.#inspectSoon(container)).State;
      if (!state.Running && (!state.StartedAt || state.StartedAt.startsWith("0001"))) {
        await container.start().catch((error: unknown) => {
          if (!isStatus(error, 304)) throw error;
        });
      }
      const logsDone = new AbortController();
      const logs = this.#followLogs(container, name, onLog, AbortSignal.any([clock.signal, logsDone.signal]));
      const exitCode = await this.#exitCodeOf(container, clock.signal);
      // The log stream ends by itself once the container has exited; bound the wait in case the engine keeps it open.
      await drainLogs(logs, logsDone, `container ${name}`, onLog);
      if (exitCode === 0 || !this.#options.failedRetentionMs) await this.#removeQuietly(name, onLog);
      return {
        exitCode,
        reason: "exited",
        message: "",
        startedAt: clock.startedAt,
        finishedAt: new Date(),
        runName: name,
        reused,
      };
    } catch (error) {
      if (!clock.stopReason) {
        if (
          error instanceof ImagePullError ||
          (isStatus(error, 404) && /image/i.test(String((error as Error).message)))
        ) {
          await this.#removeQuietly(name, onLog);
          return {
            exitCode: 1,
            reason: "failed",
            message:
              error instanceof ImagePullError
                ? error.message
                : `image ${request.image} is not available to the engine: ${(error as Error).message}`,
            startedAt: clock.startedAt,
            finishedAt: new Date(),
            runName: name,
            reused,
          };
        }
        throw error;
      }
      await this.#removeQuietly(name, onLog);
      return { ...clock.stoppedOutcome(), startedAt: clock.startedAt, finishedAt: new Date(), runName: name, reused };
    } finally {
      clock.dispose();
    }
  }

  async listManaged(): Promise<ManagedResource[]> {
    const containers = await this.#docker.listContainers({ all: true, filters: { label: [MANAGED_SELECTOR] } });
    const resources: ManagedResource[] = [];
    for (const info of containers) {
      const name = (info.Names[0] ?? info.Id).replace(/^\//, "");
      const jobId = info.Labels[JOB_ID_ANNOTATION] ?? info.Labels[FLOTILLA_LABELS.job];
      let state: ManagedResource["state"] = "running";
      let finishedAt: Date | undefined;
      if (info.State === "exited") {
        const inspected = await this.#docker.getContainer(info.Id).inspect();
        state = inspected.State.ExitCode === 0 ? "succeeded" : "failed";
        finishedAt = new Date(inspected.State.FinishedAt);
      }
      resources.push({ name, ...(jobId ? { jobId } : {}), state, ...(finishedAt ? { finishedAt } : {}) });
    }
    return resources;
  }

  async deleteManaged(name: string): Promise<void> {
    try {
      await this.#docker.getContainer(name).remove({ force: true });
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
    }
  }

  /** Creates the container (pulling its image if allowed); true when it existed already. */
  async #create(createOptions: Docker.ContainerCreateOptions): Promise<boolean> {
    try {
      await this.#docker.createContainer(createOptions);
      return false;
    } catch (error) {
      // Podman answers a name taken by a concurrent create with 500 "already in use" rather than 409.
      if (isStatus(error, 409) || /already in use/.test(String((error as Error).message))) return true;
      if (isStatus(error, 404) && (this.#options.pull ?? "missing") === "missing" && createOptions.Image) {
        await this.#pull(createOptions.Image);
        await this.#docker.createContainer(createOptions);
        return false;
      }
      throw error;
    }
  }

  /**
   * Inspects a container that was just created or found. A name taken by a concurrent create can
   * answer 404 for a moment before the container becomes visible, so 404 is retried briefly.
   */
  async #inspectSoon(container: Docker.Container): Promise<Docker.ContainerInspectInfo> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await container.inspect();
      } catch (error) {
        if (!isStatus(error, 404) || attempt >= 20) throw error;
        await sleep(100);
      }
    }
  }

  /**
   * Pulls `image`, with the registry credentials `registryAuth` gives. The engine answers a pull with 200 and
   * reports a failure inside the progress stream, as a message with `error`/`errorDetail` (Docker Engine API,
   * ImageCreate; the docker CLI's jsonmessage.DisplayJSONMessagesStream turns such a message into the
   * command's error), so the stream is read to its end and such a message fails the pull.
   */
  async #pull(image: string): Promise<void> {
    const auth = await this.#options.registryAuth?.(registryOf(image), image);
    const stream = await this.#docker.pull(image, auth ? { authconfig: auth } : {});
    const messages = await new Promise<{ error?: string; errorDetail?: { message?: string } }[]>((resolve, reject) => {
      this.#docker.modem.followProgress(stream, (error: Error | null, output: unknown[]) =>
        error ? reject(error) : resolve(output as { error?: string; errorDetail?: { message?: string } }[]),
      );
    });
    const failed = messages.find((message) => message.error || message.errorDetail?.message);
    if (failed) {
      throw new ImagePullError(
        `could not pull image ${image}: ${failed.errorDetail?.message ?? failed.error}; check the image name and that the registry is reachable${
          auth
            ? " and accepts the credentials registryAuth gave"
            : ", and give registryAuth credentials if it is private"
        }`,
      );
    }
  }

  /**
   * The container's exit code: from the wait endpoint, or from inspecting it every second in case
   * the engine's wait misses the exit (seen under load); rejects when `signal` aborts.
   */
  async #exitCodeOf(container: Docker.Container, signal: AbortSignal): Promise<number> {
    const local = new AbortController();
    const stop = AbortSignal.any([signal, local.signal]);
    const waited = (container.wait() as Promise<{ StatusCode: number }>).then((result) => result.StatusCode);
    const polled = (async (): Promise<number> => {
      for (;;) {
        await sleep(1000, stop);
        const state = (await container.inspect()).State;
        if (!state.Running && state.FinishedAt && !state.FinishedAt.startsWith("0001")) return state.ExitCode;
      }
    })();
    const stopped = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
    for (const promise of [waited, polled, stopped]) promise.catch(() => {});
    try {
      return await Promise.race([waited, polled, stopped]);
    } finally {
      local.abort();
    }
  }

  async #followLogs(
    container: Docker.Container,
    name: string,
    onLog: (line: LogLine) => void,
    signal: AbortSignal,
  ): Promise<void> {
    try {
      const stream = (await container.logs({ follow: true, stdout: true, stderr: true })) as NodeJS.ReadableStream & {
        destroy?: () => void;
      };
      // Stop reading when the run is stopped: the container is removed next, which ends the stream anyway.
      signal.addEventListener("abort", () => stream.destroy?.(), { once: true });
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      const out = new LineSplitter((text) => onLog({ stream: "stdout", text }));
      const err = new LineSplitter((text) => onLog({ stream: "stderr", text }));
      stdout.on("data", (chunk: Buffer) => out.push(chunk));
      stderr.on("data", (chunk: Buffer) => err.push(chunk));
      this.#docker.modem.demuxStream(stream, stdout, stderr);
      await new Promise<void>((resolve) => {
        stream.on("end", resolve);
        stream.on("close", resolve);
        stream.on("error", () => resolve());
      });
      out.flush();
      err.flush();
    } catch (error) {
      onLog({
        stream: "system",
        text: `warning: could not fetch the log of container ${name}: ${(error as Error).message}`,
      });
    }
  }

  async #removeQuietly(name: string, onLog: (line: LogLine) => void): Promise<void> {
    try {
      await this.deleteManaged(name);
    } catch (error) {
      onLog({
        stream: "system",
        text: `warning: could not remove container ${name}; the garbage collector will retry: ${(error as Error).message}`,
      });
    }
  }
}

/** A pull the engine reported as failed in its progress stream. */
class ImagePullError extends Error {
  override readonly name = "ImagePullError";
}

/**
 * The registry an image reference names, as Docker reads it: the first path component when it has a "." or
 * ":" or is "localhost", else Docker Hub ("docker.io"). (distribution/reference, ParseNormalizedNamed.)
 */
export function registryOf(image: string): string {
  const slash = image.indexOf("/");
  if (slash < 0) return "docker.io";
  const first = image.slice(0, slash);
  return first.includes(".") || first.includes(":") || first === "localhost" ? first : "docker.io";
}

function isStatus(error: unknown, status: number): boolean {
  return typeof error === "object" && error !== null && (error as { statusCode?: unknown }).statusCode === status;
}
