import { FakeArgo } from "@flotilla/fakes";
import { NotFoundError } from "@flotilla/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArgoRunner } from "./argo-runner.js";
import { ConcurrencyLimitedRunner } from "./concurrency-limit.js";
import { DockerRunner } from "./docker-runner.js";
import { ExecConfigError, validateExecEnvironments } from "./exec-config-schema.js";
import { createExecEnvironments, ExecEnvironments } from "./factory.js";
import { FakeProviderJobRunner } from "./fixtures/fake-provider-runner.js";
import { kubeConfigFor } from "./fixtures/kubeconfig.js";
import { HttpExecutor, ResponseTooLargeError } from "./http-executor.js";
import { JOB_ID_ANNOTATION } from "./job-names.js";
import { KubernetesRunner } from "./kubernetes-runner.js";
import { LocalRunner } from "./local-runner.js";
import { ProviderRunner } from "./provider-runner.js";

const kubeConfig = () => kubeConfigFor("http://127.0.0.1:1");

describe("createExecEnvironments", () => {
  it("provides local by default and provider-ephemeral always", async () => {
    const environments = await createExecEnvironments(undefined);
    expect(environments.names()).toEqual(["local", "provider-ephemeral"]);
    expect(environments.runner("local")).toBeInstanceOf(LocalRunner);
  });

  it("builds several named instances of one kind side by side", async () => {
    const environments = await createExecEnvironments(
      {
        "k8s-eu": { kind: "kubernetes", namespace: "jobs-eu" },
        "k8s-us": { kind: "kubernetes", namespace: "jobs-us", max_concurrent: 3 },
        docker: { kind: "local-docker", socket_path: "/run/podman/podman.sock" },
      },
      { kubeConfig },
    );
    expect(environments.names()).toEqual(["docker", "k8s-eu", "k8s-us", "local", "provider-ephemeral"]);
    expect(environments.runner("k8s-eu")).toBeInstanceOf(KubernetesRunner);
    expect(environments.runner("k8s-us")).toBeInstanceOf(ConcurrencyLimitedRunner);
    expect(environments.runner("docker")).toBeInstanceOf(DockerRunner);
    expect(environments.runner("k8s-us")).toBe(environments.runner("k8s-us"));
    expect([...environments.collectable().keys()].sort()).toEqual(["docker", "k8s-eu", "k8s-us"]);
  });

  it("builds a container runner only from the module loaded for it, naming what was not loaded", () => {
    const config = validateExecEnvironments({ k8s: { kind: "kubernetes", namespace: "jobs" } });
    expect(() => new ExecEnvironments(config, { kubeConfig }, {})).toThrow(
      'exec environment "k8s": the kubernetes runner was not loaded; create the environments with createExecEnvironments',
    );
  });

  it("rejects an invalid section with the schema's errors", async () => {
    await expect(createExecEnvironments({ "provider-ephemeral": { kind: "local" } })).rejects.toThrow(ExecConfigError);
  });

  it("names an unknown environment and the available ones", async () => {
    const environments = await createExecEnvironments({ ci: { kind: "local" } });
    expect(() => environments.runner("gpu")).toThrow(
      'exec environment "gpu" is not configured; available: ci, local, provider-ephemeral',
    );
    expect(() => environments.runner("gpu")).toThrow(NotFoundError);
  });

  describe("inline HTTP executors", () => {
    it("provides a default one called http and builds configured ones with their limits", async () => {
      const environments = await createExecEnvironments({
        hooks: { kind: "http", max_attempts: 2, max_response_bytes: 4 },
      });
      expect(environments.httpExecutor()).toBeInstanceOf(HttpExecutor);
      const hooks = environments.httpExecutor("hooks");
      // The configured size limit applies: a data: URL of 5 bytes is over 4.
      await expect(hooks.execute({ method: "GET", url: "data:text/plain,12345" })).rejects.toBeInstanceOf(
        ResponseTooLargeError,
      );
    });

    it("keeps HTTP executors and command runners apart, naming the choices", async () => {
      const environments = await createExecEnvironments({ hooks: { kind: "http" }, ci: { kind: "local" } });
      expect(() => environments.runner("hooks")).toThrow(
        '"hooks" is an inline HTTP executor, not a command runner; use httpExecutor("hooks")',
      );
      expect(() => environments.httpExecutor("ci")).toThrow(
        'exec environment "ci" is not an HTTP executor; HTTP executors: http, hooks',
      );
    });
  });

  describe("ephemeral and argo_module", () => {
    const argo = (name: string) => ({
      [name]: { kind: "argo", url: `https://${name}.example.com`, namespace: "argo" },
    });

    it("uses the only Argo instance when argo_module is not set", async () => {
      const environments = await createExecEnvironments({ ...argo("argo-main") });
      expect(environments.runner("ephemeral")).toBeInstanceOf(ArgoRunner);
    });

    it("lists the choices when several Argo instances are configured and none is named", async () => {
      await expect(
        createExecEnvironments({ ...argo("argo-a"), ...argo("argo-b"), batch: { kind: "ephemeral" } }),
      ).rejects.toThrow(
        'exec environment "batch": 2 Argo instances are configured (argo-a, argo-b); set argo_module to the one to use',
      );
      const environments = await createExecEnvironments({ ...argo("argo-a"), ...argo("argo-b") });
      expect(() => environments.runner("ephemeral")).toThrow("2 Argo instances are configured (argo-a, argo-b)");
    });

    it("says how to add an Argo instance when there is none", async () => {
      await expect(createExecEnvironments({ batch: { kind: "ephemeral" } })).rejects.toThrow(
        'exec environment "batch": no Argo instance is configured; add an entry of kind argo (url, namespace) to exec_environments',
      );
      const none = await createExecEnvironments({});
      expect(() => none.runner("ephemeral")).toThrow("no Argo instance is configured");
    });

    it("rejects an argo_module that is not an Argo instance, listing the instances", async () => {
      await expect(
        createExecEnvironments({ ...argo("argo-a"), batch: { kind: "ephemeral", argo_module: "argo-z" } }),
      ).rejects.toThrow(
        'exec environment "batch": argo_module "argo-z" is not an Argo instance; configured Argo instances: argo-a',
      );
    });

    it("explains that an Argo instance is not itself a runner", async () => {
      const environments = await createExecEnvironments({ ...argo("argo-a") });
      expect(() => environments.runner("argo-a")).toThrow('"argo-a" is an Argo server instance, not a runner');
    });

    it("reads the Argo token from the named environment variable and fails clearly when it is unset", async () => {
      const section = {
        "argo-a": { kind: "argo", url: "https://a.example.com", namespace: "argo", token_env: "ARGO_TOKEN_TEST" },
      };
      await expect(createExecEnvironments(section, { env: {} })).rejects.toThrow(
        'exec environment "ephemeral": the Argo instance\'s token_env ARGO_TOKEN_TEST is not set in the environment',
      );
      const withToken = await createExecEnvironments(section, { env: { ARGO_TOKEN_TEST: "t" } });
      expect(withToken.runner("ephemeral")).toBeInstanceOf(ArgoRunner);
    });
  });

  describe("provider-ephemeral and named provider runners", () => {
    const fake = new FakeProviderJobRunner("aws");
    const providers = {
      providerNames: () => ["aws", "regions-only"],
      runnerOf: (name: string) => (name === "aws" ? fake : undefined),
    };

    it("dispatches to the default provider, or the one a run names", async () => {
      const environments = await createExecEnvironments({}, { providers, defaultProvider: "aws" });
      expect(environments.runner("provider-ephemeral")).toBeInstanceOf(ProviderRunner);
      expect(() => environments.runner("provider-ephemeral", { provider: "regions-only" })).toThrow(
        'provider "regions-only" does not advertise IaCProviderRunner, so it cannot run jobs; providers that do: aws',
      );
    });

    it("says what to do when no provider is given", async () => {
      const withProviders = await createExecEnvironments({}, { providers });
      expect(() => withProviders.runner("provider-ephemeral")).toThrow(
        "no provider given and no default_provider configured",
      );
      const withoutProviders = await createExecEnvironments({});
      expect(() => withoutProviders.runner("provider-ephemeral", { provider: "aws" })).toThrow(
        "this host has no providers loaded",
      );
    });

    it("sends a named provider runner's target to the provider's RunJob", async () => {
      const environments = await createExecEnvironments(
        {
          fargate: {
            kind: "provider",
            provider: "aws",
            target: { awsEcs: { cluster: "jobs", subnets: ["subnet-1"] } },
            poll_interval_seconds: 0.05,
          },
        },
        { providers },
      );
      const result = await environments
        .runner("fargate")
        .run({ command: ["sh", "-c", "exit 0"], jobIdentity: { jobId: "targeted" } });
      expect(result.exitCode).toBe(0);
      const runJobs = fake.requests.map((json) => JSON.parse(json)).filter((r) => r.spec?.name?.includes("targeted"));
      expect(runJobs.map((r) => r.spec.target)).toEqual([{ awsEcs: { cluster: "jobs", subnets: ["subnet-1"] } }]);
    });

    it("names the entry when its target is not a JobTarget", async () => {
      const environments = await createExecEnvironments(
        { fargate: { kind: "provider", provider: "aws", target: { awsEcz: {} } } },
        { providers },
      );
      expect(() => environments.runner("fargate")).toThrow(
        /^exec environment "fargate": target is not a valid JobTarget .*awsEcz/,
      );
    });
  });

  describe("end to end through the factory", () => {
    let fake: FakeArgo;
    beforeAll(async () => {
      fake = await new FakeArgo().start();
    });
    afterAll(async () => {
      await fake.close();
    });

    it("a config-built ephemeral runner submits with the configured TTL and polls at the configured interval", async () => {
      const environments = await createExecEnvironments({
        "argo-a": { kind: "argo", url: fake.url, namespace: "argo" },
        ephemeral: { kind: "ephemeral", poll_interval_seconds: 0.05, ttl_seconds_after_completion: 42 },
      });
      const result = await environments
        .runner("ephemeral")
        .run({ image: "busybox:1", command: ["sh", "-c", "exit 3"], jobIdentity: { jobId: "cfg" } });
      expect(result.exitCode).toBe(3);
      const workflow = JSON.parse(fake.requests.find((r) => r.method === "POST")?.body ?? "{}").workflow;
      expect(workflow.spec.ttlStrategy).toEqual({ secondsAfterCompletion: 42 });
    });
  });

  describe("two Argo servers side by side", () => {
    let serverA: FakeArgo;
    let serverB: FakeArgo;
    beforeAll(async () => {
      [serverA, serverB] = await Promise.all([new FakeArgo().start(), new FakeArgo().start()]);
    });
    afterAll(async () => {
      await Promise.all([serverA.close(), serverB.close()]);
    });

    /** "<path> <job id>" of every workflow the server was asked to create. */
    const submissions = (server: FakeArgo) =>
      server.requests
        .filter((r) => r.method === "POST")
        .map((r) => `${r.url} ${JSON.parse(r.body).workflow.metadata.annotations[JOB_ID_ANNOTATION]}`);

    it("sends each ephemeral environment's jobs to the Argo server its argo_module names", async () => {
      const environments = await createExecEnvironments({
        "argo-a": { kind: "argo", url: serverA.url, namespace: "team-a" },
        "argo-b": { kind: "argo", url: serverB.url, namespace: "team-b" },
        "on-b": { kind: "ephemeral", argo_module: "argo-b", poll_interval_seconds: 0.05 },
        "on-a": { kind: "ephemeral", argo_module: "argo-a", poll_interval_seconds: 0.05 },
      });
      const onB = await environments
        .runner("on-b")
        .run({ image: "busybox:1", command: ["sh", "-c", "exit 4"], jobIdentity: { jobId: "for-b" } });
      const onA = await environments
        .runner("on-a")
        .run({ image: "busybox:1", command: ["sh", "-c", "exit 5"], jobIdentity: { jobId: "for-a" } });
      expect([onA.exitCode, onB.exitCode]).toEqual([5, 4]);
      expect(submissions(serverA)).toEqual(["/api/v1/workflows/team-a for-a"]);
      expect(submissions(serverB)).toEqual(["/api/v1/workflows/team-b for-b"]);
    });
  });
});
