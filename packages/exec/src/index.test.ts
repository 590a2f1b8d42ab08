/**
 * The package root must not load a container client: an embedder that runs
 * jobs locally or on a provider should not pay the Kubernetes client's
 * start-up time (or need it installed). Checked in a fresh Node importing the
 * built package by its name, as a user would, with a module resolve hook that
 * records every module loaded; the container entry points are the control
 * that shows the hook sees a client when one is loaded.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "flotilla-exec-entry-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// A kubeconfig for the kubernetes environment below; nothing connects to its server.
const kubeconfig = join(dir, "kubeconfig.yaml");
writeFileSync(
  kubeconfig,
  `apiVersion: v1
kind: Config
clusters: [{ name: fake, cluster: { server: "http://127.0.0.1:1" } }]
users: [{ name: tester, user: {} }]
contexts: [{ name: fake, context: { cluster: fake, user: tester } }]
current-context: fake
`,
);

// Imports argv[1]; when argv[2] is given, also creates the exec environments it describes (JSON).
// Prints the URL of every module resolved along the way.
const probe = `
import { registerHooks } from "node:module";
const resolved = [];
registerHooks({
  resolve(specifier, context, nextResolve) {
    const result = nextResolve(specifier, context);
    resolved.push(result.url);
    return result;
  },
});
const exec = await import(process.argv[1]);
if (process.argv[2]) await exec.createExecEnvironments(JSON.parse(process.argv[2]));
process.stdout.write(JSON.stringify(resolved));
`;

/** The container client packages among the modules that `specifier` (and creating `environments`) loaded. */
function clientsLoadedBy(specifier: string, environments?: object): { clients: string[]; resolved: string[] } {
  const args = ["--input-type=module", "-e", probe, specifier, ...(environments ? [JSON.stringify(environments)] : [])];
  const resolved = JSON.parse(execFileSync(process.execPath, args, { cwd: packageDir, encoding: "utf8" })) as string[];
  const clients = new Set<string>();
  for (const url of resolved) {
    const match = /\/node_modules\/(@kubernetes\/client-node|dockerode)\//.exec(url);
    if (match?.[1]) clients.add(match[1]);
  }
  return { clients: [...clients].sort(), resolved };
}

describe("@flotilla/exec entry points", { timeout: 60_000 }, () => {
  it("the package root loads neither the Kubernetes client nor dockerode", () => {
    const { clients, resolved } = clientsLoadedBy("@flotilla/exec");
    expect(resolved.some((url) => url.endsWith("/packages/exec/dist/index.js"))).toBe(true);
    expect(resolved.some((url) => url.includes("/protocol/dist/"))).toBe(true);
    expect(clients).toEqual([]);
  });

  it("the factory loads none for environments without containers", () => {
    const { clients } = clientsLoadedBy("@flotilla/exec", {
      ci: { kind: "local" },
      hooks: { kind: "http" },
      "argo-a": { kind: "argo", url: "https://argo.example.com", namespace: "argo" },
    });
    expect(clients).toEqual([]);
  });

  it("the factory loads a container runner's client when an environment of its kind is created", () => {
    expect(
      clientsLoadedBy("@flotilla/exec", { k8s: { kind: "kubernetes", namespace: "jobs", kubeconfig } }).clients,
    ).toEqual(["@kubernetes/client-node"]);
    expect(clientsLoadedBy("@flotilla/exec", { podman: { kind: "local-docker" } }).clients).toEqual(["dockerode"]);
  });

  it("each container entry point loads its own client and no other", () => {
    expect(clientsLoadedBy("@flotilla/exec/kubernetes").clients).toEqual(["@kubernetes/client-node"]);
    expect(clientsLoadedBy("@flotilla/exec/docker").clients).toEqual(["dockerode"]);
    expect(clientsLoadedBy("@flotilla/exec/argo").clients).toEqual([]);
  });
});
