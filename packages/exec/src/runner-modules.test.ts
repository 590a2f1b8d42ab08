import { describe, expect, it } from "vitest";
import * as argo from "./argo.js";
import * as docker from "./docker.js";
import * as kubernetes from "./kubernetes.js";
import { type ContainerRunner, loadContainerRunners, type RunnerImports } from "./runner-modules.js";

/** Imports that record what was asked for; `fail` makes one runner's import throw `error`. */
function recordingImports(fail?: { runner: ContainerRunner; error: Error }): {
  imports: RunnerImports;
  imported: ContainerRunner[];
} {
  const imported: ContainerRunner[] = [];
  const importing =
    <R extends ContainerRunner, M>(runner: R, module: M) =>
    async (): Promise<M> => {
      imported.push(runner);
      if (fail?.runner === runner) throw fail.error;
      return module;
    };
  return {
    imported,
    imports: {
      argo: importing("argo", argo),
      docker: importing("docker", docker),
      kubernetes: importing("kubernetes", kubernetes),
    },
  };
}

/** The error Node's ESM loader throws for a bare specifier it cannot find. */
function cannotFindPackage(name: string): Error {
  return Object.assign(
    new Error(`Cannot find package '${name}' imported from /app/node_modules/@flotilla/exec/dist/x.js`),
    {
      code: "ERR_MODULE_NOT_FOUND",
    },
  );
}

describe("loadContainerRunners", () => {
  it("imports nothing for a configuration without container environments", async () => {
    const { imports, imported } = recordingImports();
    const modules = await loadContainerRunners(
      new Map([
        ["ci", "local"],
        ["hooks", "http"],
        ["fargate", "provider"],
      ]),
      imports,
    );
    expect(imported).toEqual([]);
    expect(modules).toEqual({ argo: undefined, docker: undefined, kubernetes: undefined });
  });

  it("imports exactly the runners the configured kinds need", async () => {
    const { imports, imported } = recordingImports();
    const modules = await loadContainerRunners(
      new Map([
        ["k8s-eu", "kubernetes"],
        ["k8s-us", "kubernetes"],
        ["argo-main", "argo"],
      ]),
      imports,
    );
    expect(imported.sort()).toEqual(["argo", "kubernetes"]);
    expect(modules.kubernetes?.KubernetesRunner).toBe(kubernetes.KubernetesRunner);
    expect(modules.argo?.ArgoRunner).toBe(argo.ArgoRunner);
    expect(modules.docker).toBeUndefined();
  });

  it("an ephemeral entry needs the Argo runner, a local-docker entry the Docker runner", async () => {
    const { imports, imported } = recordingImports();
    await loadContainerRunners(
      new Map([
        ["batch", "ephemeral"],
        ["podman", "local-docker"],
      ]),
      imports,
    );
    expect(imported.sort()).toEqual(["argo", "docker"]);
  });

  it("names the environments that need a missing client package and how to install it", async () => {
    const { imports } = recordingImports({ runner: "kubernetes", error: cannotFindPackage("@kubernetes/client-node") });
    const loading = loadContainerRunners(
      new Map([
        ["k8s-eu", "kubernetes"],
        ["k8s-us", "kubernetes"],
        ["ci", "local"],
      ]),
      imports,
    );
    await expect(loading).rejects.toThrow(
      'exec environments "k8s-eu", "k8s-us" need @kubernetes/client-node, an optional dependency of @flotilla/exec that is not installed; install it where @flotilla/exec is installed (npm install @kubernetes/client-node)',
    );
    const { imports: dockerless } = recordingImports({ runner: "docker", error: cannotFindPackage("dockerode") });
    await expect(loadContainerRunners(new Map([["podman", "local-docker"]]), dockerless)).rejects.toThrow(
      'exec environment "podman" needs dockerode, an optional dependency',
    );
  });

  it("passes on any other failure unchanged", async () => {
    const broken = new Error("SyntaxError in a dependency");
    const { imports } = recordingImports({ runner: "docker", error: broken });
    await expect(loadContainerRunners(new Map([["podman", "local-docker"]]), imports)).rejects.toBe(broken);
    const elsewhere = cannotFindPackage("ssh2");
    const { imports: other } = recordingImports({ runner: "docker", error: elsewhere });
    await expect(loadContainerRunners(new Map([["podman", "local-docker"]]), other)).rejects.toBe(elsewhere);
  });
});
