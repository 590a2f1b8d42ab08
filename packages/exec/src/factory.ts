/**
 * The exec_env factory: turns the validated `exec_environments` section into
 * runners, one per configured name, so several instances of one kind (two
 * clusters, two Argo servers) live side by side under user-chosen names.
 * Built-in names: `local` (the embedded default, unless configured),
 * `provider-ephemeral` (reserved: the resolved provider's IaCProviderRunner)
 * and `ephemeral` (an Argo runner on the only configured Argo instance,
 * unless an entry of that name exists). Configuration mistakes — a missing
 * or ambiguous Argo instance, an unknown name, a provider that cannot run
 * jobs — fail with an error that names the choices.
 *
 * The container runners (local-docker, kubernetes, ephemeral/Argo) are
 * imported only when the configuration has an environment of their kind, so
 * a configuration without them loads neither the Kubernetes client nor
 * dockerode (runner-modules.ts); that is why creating the environments is
 * asynchronous.
 */
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import {
  FailedPreconditionError,
  InvalidArgumentError,
  type JobTarget,
  JobTargetSchema,
  NotFoundError,
} from "@flotilla/protocol";
import type { KubeConfig } from "@kubernetes/client-node";
import { ConcurrencyLimitedRunner } from "./concurrency-limit.js";
import { type ExecEnvironmentsConfig, validateExecEnvironments } from "./exec-config-schema.js";
import type { CollectableEnvironment } from "./garbage-collector.js";
import { HttpExecutor } from "./http-executor.js";
import type { KubeConfigSettings } from "./kubernetes-runner.js";
import { LocalRunner } from "./local-runner.js";
import type { ProviderDirectory } from "./provider-job-runner.js";
import { providerRunnerFor } from "./provider-runner.js";
import { DEFAULT_RETRY_POLICY } from "./retry.js";
import { type ContainerRunner, type ContainerRunnerModules, loadContainerRunners } from "./runner-modules.js";
import type { SandboxRunner } from "./sandbox-runner.js";
import type { SecretResolver } from "./secret-ref.js";

/** What the factory needs from the host besides the configuration. */
export interface ExecFactoryDependencies {
  /** The host's providers, for `provider-ephemeral` and entries of kind provider. */
  readonly providers?: ProviderDirectory;
  /** flotilla.yaml's default_provider: what `provider-ephemeral` uses when a run names none. */
  readonly defaultProvider?: string;
  /** Environment variables `token_env` settings are read from. Default: process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Builds the KubeConfig of a kubernetes entry. Default: its kubeconfig file, else $KUBECONFIG/~/.kube/config/in-cluster. */
  readonly kubeConfig?: (settings: KubeConfigSettings) => KubeConfig;
  /** Resolves `secret://` references for the runners that run on this machine (local, local-docker). */
  readonly resolveSecret?: SecretResolver;
}

/** Name of the reserved environment that dispatches to a provider's runner. */
export const PROVIDER_EPHEMERAL = "provider-ephemeral";

/** The configured execution environments; made by createExecEnvironments. */
export class ExecEnvironments {
  readonly #config: ExecEnvironmentsConfig;
  readonly #deps: ExecFactoryDependencies;
  readonly #modules: ContainerRunnerModules;
  readonly #runners = new Map<string, SandboxRunner>();
  readonly #collectable = new Map<string, CollectableEnvironment>();

  /** `modules` holds the container runner modules that `config` needs (loadContainerRunners). */
  constructor(config: ExecEnvironmentsConfig, deps: ExecFactoryDependencies, modules: ContainerRunnerModules) {
    this.#config = config;
    this.#deps = deps;
    this.#modules = modules;
    // Build every configured runner now, so a bad reference fails at start-up rather than at the first run.
    for (const [name, entry] of Object.entries(config)) {
      if (entry.kind !== "argo" && entry.kind !== "provider" && entry.kind !== "http") this.#build(name);
    }
    if (!config.ephemeral && this.#argoNames().length === 1) this.#build("ephemeral");
  }

  /** Every name a run may ask for. */
  names(): string[] {
    const names = new Set(["local", PROVIDER_EPHEMERAL, ...this.#runners.keys()]);
    for (const [name, entry] of Object.entries(this.#config)) if (entry.kind === "provider") names.add(name);
    return [...names].sort();
  }

  /**
   * The runner called `name`. For `provider-ephemeral`, `options.provider`
   * names the provider (default: default_provider).
   */
  runner(name: string, options: { provider?: string } = {}): SandboxRunner {
    if (name === PROVIDER_EPHEMERAL) {
      const provider = options.provider ?? this.#deps.defaultProvider;
      if (!provider) {
        throw new InvalidArgumentError(
          `exec environment provider-ephemeral: no provider given and no default_provider configured; name the provider to run the job on`,
        );
      }
      return providerRunnerFor(this.#directory(name), provider);
    }
    const entry = this.#config[name];
    if (entry?.kind === "http") {
      throw new InvalidArgumentError(
        `exec environment "${name}" is an inline HTTP executor, not a command runner; use httpExecutor("${name}")`,
      );
    }
    if (entry?.kind === "argo") {
      throw new InvalidArgumentError(
        `exec environment "${name}" is an Argo server instance, not a runner; define an entry of kind ephemeral with argo_module: ${name}, or use "ephemeral"`,
      );
    }
    if (entry?.kind === "provider") {
      return providerRunnerFor(this.#directory(name), String(entry.provider), {
        ...(entry.target ? { target: parseTarget(name, entry.target) } : {}),
        ...(typeof entry.poll_interval_seconds === "number"
          ? { pollIntervalMs: entry.poll_interval_seconds * 1000 }
          : {}),
      });
    }
    const runner = this.#runners.get(name) ?? (name === "local" ? this.#build("local") : undefined);
    if (!runner) {
      if (name === "ephemeral") this.#argoFor("ephemeral", undefined);
      throw new NotFoundError(`exec environment "${name}" is not configured; available: ${this.names().join(", ")}`);
    }
    return runner;
  }

  /**
   * The inline HTTP executor called `name`: an entry of kind http, or, for the name "http" when
   * none is configured, one with the default retry policy and size limit.
   */
  httpExecutor(name = "http"): HttpExecutor {
    const entry = this.#config[name];
    if (!entry && name === "http") return new HttpExecutor();
    if (entry?.kind !== "http") {
      const configured = Object.entries(this.#config)
        .filter(([, e]) => e.kind === "http")
        .map(([n]) => n);
      const choices = this.#config.http ? configured : ["http", ...configured];
      throw new InvalidArgumentError(
        `exec environment "${name}" is not an HTTP executor; HTTP executors: ${choices.join(", ")}`,
      );
    }
    const ms = (key: string, fallback: number): number =>
      typeof entry[key] === "number" ? (entry[key] as number) * 1000 : fallback;
    return new HttpExecutor({
      retryPolicy: {
        maxAttempts: typeof entry.max_attempts === "number" ? entry.max_attempts : DEFAULT_RETRY_POLICY.maxAttempts,
        baseDelayMs: ms("base_delay_seconds", DEFAULT_RETRY_POLICY.baseDelayMs),
        maxDelayMs: ms("max_delay_seconds", DEFAULT_RETRY_POLICY.maxDelayMs),
      },
      ...(typeof entry.max_response_bytes === "number" ? { maxResponseBytes: entry.max_response_bytes } : {}),
    });
  }

  /** The environments whose leftovers the garbage collector sweeps, by name. */
  collectable(): ReadonlyMap<string, CollectableEnvironment> {
    return this.#collectable;
  }

  #directory(name: string): ProviderDirectory {
    if (!this.#deps.providers)
      throw new FailedPreconditionError(
        `exec environment ${name}: this host has no providers loaded, so it cannot dispatch jobs to one`,
      );
    return this.#deps.providers;
  }

  #build(name: string): SandboxRunner {
    const entry = this.#config[name] ?? { kind: name === "ephemeral" ? "ephemeral" : "local" };
    const inner = this.#create(name, entry);
    const limit = entry.max_concurrent;
    const runner = typeof limit === "number" ? new ConcurrencyLimitedRunner(inner, limit) : inner;
    this.#runners.set(name, runner);
    if ("listManaged" in inner) this.#collectable.set(name, inner as unknown as CollectableEnvironment);
    return runner;
  }

  #create(name: string, entry: ExecEnvironmentsConfig[string]): SandboxRunner {
    const ms = (key: string): number | undefined =>
      typeof entry[key] === "number" ? (entry[key] as number) * 1000 : undefined;
    const resolveSecret = this.#deps.resolveSecret;
    switch (entry.kind) {
      case "local":
        return new LocalRunner({ ...(resolveSecret ? { resolveSecret } : {}), inheritEnv: entry.inherit_env === true });
      case "local-docker":
        return new (this.#module("docker", name).DockerRunner)({
          ...(typeof entry.socket_path === "string" ? { socketPath: entry.socket_path } : {}),
          ...(typeof entry.host === "string" ? { host: entry.host } : {}),
          ...(entry.pull === "never" ? { pull: "never" as const } : {}),
          ...(ms("failed_retention_seconds") !== undefined
            ? { failedRetentionMs: ms("failed_retention_seconds") }
            : {}),
          ...(resolveSecret ? { resolveSecret } : {}),
        });
      case "kubernetes": {
        const settings: KubeConfigSettings = {
          ...(typeof entry.kubeconfig === "string" ? { kubeconfig: entry.kubeconfig } : {}),
          ...(typeof entry.context === "string" ? { context: entry.context } : {}),
        };
        const kubernetes = this.#module("kubernetes", name);
        return new kubernetes.KubernetesRunner({
          kubeConfig: (this.#deps.kubeConfig ?? kubernetes.loadKubeConfig)(settings),
          namespace: String(entry.namespace),
          ...(ms("poll_interval_seconds") !== undefined ? { pollIntervalMs: ms("poll_interval_seconds") } : {}),
          ...(ms("failed_retention_seconds") !== undefined
            ? { failedRetentionMs: ms("failed_retention_seconds") }
            : {}),
          ...(ms("pending_timeout_seconds") !== undefined ? { pendingTimeoutMs: ms("pending_timeout_seconds") } : {}),
          ...(typeof entry.service_account === "string" ? { serviceAccountName: entry.service_account } : {}),
        });
      }
      case "ephemeral": {
        const argo = this.#argoFor(name, typeof entry.argo_module === "string" ? entry.argo_module : undefined);
        const tokenEnv = typeof argo.token_env === "string" ? argo.token_env : undefined;
        const token = tokenEnv ? (this.#deps.env ?? process.env)[tokenEnv] : undefined;
        if (tokenEnv && !token) {
          throw new FailedPreconditionError(
            `exec environment "${name}": the Argo instance's token_env ${tokenEnv} is not set in the environment; export it or remove token_env`,
          );
        }
        return new (this.#module("argo", name).ArgoRunner)({
          baseUrl: String(argo.url),
          namespace: String(argo.namespace),
          ...(token ? { token } : {}),
          ...(ms("poll_interval_seconds") !== undefined ? { pollIntervalMs: ms("poll_interval_seconds") } : {}),
          ...(typeof entry.ttl_seconds_after_completion === "number"
            ? { ttlSecondsAfterCompletion: entry.ttl_seconds_after_completion }
            : {}),
          ...(typeof entry.ttl_seconds_after_failure === "number"
            ? { ttlSecondsAfterFailure: entry.ttl_seconds_after_failure }
            : {}),
          ...(ms("pending_timeout_seconds") !== undefined ? { pendingTimeoutMs: ms("pending_timeout_seconds") } : {}),
          ...(typeof entry.service_account === "string" ? { serviceAccountName: entry.service_account } : {}),
        });
      }
      default:
        throw new InvalidArgumentError(`exec environment "${name}": kind ${entry.kind} is not a runner`);
    }
  }

  /** A container runner's module, which createExecEnvironments loaded because the config has an environment of its kind. */
  #module<R extends ContainerRunner>(runner: R, envName: string): NonNullable<ContainerRunnerModules[R]> {
    const module = this.#modules[runner];
    if (!module) {
      throw new FailedPreconditionError(
        `exec environment "${envName}": the ${runner} runner was not loaded; create the environments with createExecEnvironments, which loads the runners a configuration needs`,
      );
    }
    return module;
  }

  #argoNames(): string[] {
    return Object.entries(this.#config)
      .filter(([, entry]) => entry.kind === "argo")
      .map(([name]) => name);
  }

  /** The Argo instance an ephemeral environment uses: the named one, else the only one, else an error naming the choices. */
  #argoFor(envName: string, argoModule: string | undefined): ExecEnvironmentsConfig[string] {
    const choices = this.#argoNames();
    if (argoModule !== undefined) {
      const entry = this.#config[argoModule];
      if (entry?.kind === "argo") return entry;
      throw new InvalidArgumentError(
        `exec environment "${envName}": argo_module "${argoModule}" is not an Argo instance; configured Argo instances: ${choices.length ? choices.join(", ") : "none (add an entry of kind argo)"}`,
      );
    }
    const [only] = choices;
    if (choices.length === 1 && only) return this.#config[only] as ExecEnvironmentsConfig[string];
    if (choices.length === 0) {
      throw new InvalidArgumentError(
        `exec environment "${envName}": no Argo instance is configured; add an entry of kind argo (url, namespace) to exec_environments`,
      );
    }
    throw new InvalidArgumentError(
      `exec environment "${envName}": ${choices.length} Argo instances are configured (${choices.join(", ")}); set argo_module to the one to use`,
    );
  }
}

/**
 * Validates `section` (the exec_environments of flotilla.yaml or of an API
 * call), loads the container runners its environments need (only those) and
 * builds its runners.
 */
export async function createExecEnvironments(
  section: unknown,
  deps: ExecFactoryDependencies = {},
): Promise<ExecEnvironments> {
  const config = validateExecEnvironments(section);
  const kinds = new Map(Object.entries(config).map(([name, entry]) => [name, String(entry.kind)]));
  return new ExecEnvironments(config, deps, await loadContainerRunners(kinds));
}

/** The JobTarget of a provider entry, from protobuf JSON; an error names the entry and the problem. */
function parseTarget(name: string, target: unknown): JobTarget {
  try {
    return fromJson(JobTargetSchema, target as JsonValue);
  } catch (error) {
    throw new InvalidArgumentError(
      `exec environment "${name}": target is not a valid JobTarget (protobuf JSON, e.g. {"awsEcs": {"cluster": "jobs"}}): ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
