/**
 * The container runners' modules, loaded only when a configuration has an
 * environment of their kind. Each pulls in its API client — the Kubernetes
 * client (tens of megabytes, seconds of start-up) or dockerode — which an
 * installation that never runs such an environment need not load, nor even
 * have: they are optional peer dependencies of this package. A missing one is
 * reported by the environments that need it and the command that installs it.
 */
import { FailedPreconditionError } from "@flotilla/protocol";
import type * as ArgoModule from "./argo.js";
import type * as DockerModule from "./docker.js";
import type * as KubernetesModule from "./kubernetes.js";

/** The loaded modules, by runner. */
export interface ContainerRunnerModules {
  /** `ephemeral` (Argo Workflows, through fetch: no client package). */
  readonly argo?: typeof ArgoModule;
  /** `local-docker` (dockerode). */
  readonly docker?: typeof DockerModule;
  /** `kubernetes` (@kubernetes/client-node). */
  readonly kubernetes?: typeof KubernetesModule;
}

/** A runner module's name. */
export type ContainerRunner = keyof ContainerRunnerModules;

/** How each runner module is imported; tests pass their own. */
export type RunnerImports = {
  readonly [R in ContainerRunner]: () => Promise<NonNullable<ContainerRunnerModules[R]>>;
};

/** The exec_environments kinds each runner module serves. */
const KINDS: Readonly<Record<ContainerRunner, readonly string[]>> = {
  argo: ["ephemeral", "argo"],
  docker: ["local-docker"],
  kubernetes: ["kubernetes"],
};

/** The client package each runner needs installed beside this one. */
const PEERS: Readonly<Record<ContainerRunner, string | undefined>> = {
  argo: undefined,
  docker: "dockerode",
  kubernetes: "@kubernetes/client-node",
};

/** The runner modules, each imported when first asked for: nothing here loads a client at start-up. */
const IMPORTS: RunnerImports = {
  argo: () => import("./argo.js"),
  docker: () => import("./docker.js"),
  kubernetes: () => import("./kubernetes.js"),
};

/**
 * Loads the runner modules that the environments in `kinds` (environment
 * name → kind) need, and no other. When one's client package is not
 * installed, the error names the environments that need it and how to
 * install it.
 */
export async function loadContainerRunners(
  kinds: ReadonlyMap<string, string>,
  imports: RunnerImports = IMPORTS,
): Promise<ContainerRunnerModules> {
  const load = async <R extends ContainerRunner>(runner: R): Promise<ContainerRunnerModules[R]> => {
    const users = [...kinds].filter(([, kind]) => KINDS[runner].includes(kind)).map(([name]) => name);
    if (users.length === 0) return undefined;
    try {
      return await imports[runner]();
    } catch (error) {
      const peer = PEERS[runner];
      if (peer === undefined || !isMissingPackage(error, peer)) throw error;
      const names = users.map((name) => JSON.stringify(name)).join(", ");
      throw new FailedPreconditionError(
        `exec environment${users.length > 1 ? "s" : ""} ${names} need${users.length > 1 ? "" : "s"} ${peer}, an optional dependency of @flotilla/exec that is not installed; install it where @flotilla/exec is installed (npm install ${peer})`,
        { cause: error },
      );
    }
  };
  const [argo, docker, kubernetes] = await Promise.all([load("argo"), load("docker"), load("kubernetes")]);
  return { argo, docker, kubernetes };
}

/** True when `error` is Node's "Cannot find package 'NAME'" for package `name`. */
function isMissingPackage(error: unknown, name: string): boolean {
  return (
    error instanceof Error &&
    (error as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND" &&
    error.message.includes(`'${name}'`)
  );
}
