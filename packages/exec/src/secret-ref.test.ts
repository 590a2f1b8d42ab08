/**
 * Secrets never cross the host in clear: `secret://` references go out
 * unresolved to where they resolve, and no secret value shows up in any
 * request the host sends, any log line it reports, or any error it raises.
 */
import { FakeArgo, FakeKubernetes } from "@flotilla/fakes";
import { InvalidArgumentError } from "@flotilla/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArgoRunner } from "./argo-runner.js";
import { FakeProviderJobRunner } from "./fixtures/fake-provider-runner.js";
import { kubeConfigFor } from "./fixtures/kubeconfig.js";
import { KubernetesRunner } from "./kubernetes-runner.js";
import { LocalRunner } from "./local-runner.js";
import { ProviderRunner } from "./provider-runner.js";
import type { LogLine, SandboxRunRequest } from "./sandbox-runner.js";
import { kubernetesEnv, kubernetesSecretKeyRef, resolveSecretEnv, validateSecretEnv } from "./secret-ref.js";

const SECRET = "tr0ub4dor-and-3-horses";
// The job checks the value by pattern so the command itself never spells it.
const checkCommand = [
  "sh",
  "-c",
  'case "$API_TOKEN" in tr0ub4dor-*-horses) echo token-present;; *) echo token-missing; exit 3;; esac',
];

describe("secretEnv in the execution environments", () => {
  it("passes every store's reference on to where it resolves, the AWS forms included", () => {
    expect(() =>
      validateSecretEnv({
        DB: "secret://db-creds/password",
        PARAM: "secret://ssm//prod/db",
        ARN: "secret://arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf",
      }),
    ).not.toThrow();
  });

  it("rejects anything that is not a reference without echoing the value, which may be a pasted secret", () => {
    for (const bad of [SECRET, "secret://", "secret://Upper/key", "secret://db/"]) {
      let message = "";
      try {
        validateSecretEnv({ OK: "secret://a/b", API_TOKEN: bad });
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidArgumentError);
        message = (error as Error).message;
      }
      expect(message).toMatch(/^secretEnv\.API_TOKEN: /);
      expect(message).not.toContain(SECRET);
    }
  });

  it("refuses to resolve locally without a resolver, naming the variables and the fix", async () => {
    await expect(resolveSecretEnv("local", { API_TOKEN: "secret://api/token" })).rejects.toThrow(
      /local runner: secretEnv API_TOKEN cannot be resolved: this runner has no secret resolver; pass one/,
    );
    const asked: string[] = [];
    const resolver = async (reference: string) => {
      asked.push(reference);
      return SECRET;
    };
    await expect(resolveSecretEnv("local", { API_TOKEN: "secret://api/token" }, resolver)).resolves.toEqual({
      API_TOKEN: SECRET,
    });
    expect(asked).toEqual(["secret://api/token"]);
    await expect(resolveSecretEnv("local", { API_TOKEN: SECRET }, resolver)).rejects.toThrow(/secretEnv\.API_TOKEN/);
    expect(asked).toHaveLength(1);
  });
});

describe("no secret value leaves the host", () => {
  let kubernetes: FakeKubernetes;
  let argo: FakeArgo;
  const provider = new FakeProviderJobRunner("aws");

  beforeAll(async () => {
    kubernetes = await new FakeKubernetes().start();
    kubernetes.secrets.set("default/api", { token: SECRET });
    argo = await new FakeArgo().start();
    argo.secrets.set("argo/api", { token: SECRET });
    provider.secrets.set("secret://api/token", SECRET);
  });
  afterAll(async () => {
    await kubernetes.close();
    await argo.close();
    provider.close();
  });

  const request: SandboxRunRequest = {
    image: "busybox:1",
    command: checkCommand,
    secretEnv: { API_TOKEN: "secret://api/token" },
    jobIdentity: { jobId: "secret-check" },
  };

  it.each(["kubernetes", "ephemeral", "provider-ephemeral"] as const)(
    "%s: the reference resolves remotely, and requests, log lines and results never carry the value",
    async (kind) => {
      const runner =
        kind === "kubernetes"
          ? new KubernetesRunner({
              kubeConfig: kubeConfigFor(kubernetes.url),
              namespace: "default",
              pollIntervalMs: 30,
            })
          : kind === "ephemeral"
            ? new ArgoRunner({ baseUrl: argo.url, namespace: "argo", pollIntervalMs: 30 })
            : new ProviderRunner({ providerName: "aws", runner: provider, pollIntervalMs: 30 });
      const lines: LogLine[] = [];
      const result = await runner.run(request, { onLog: (line) => lines.push(line) });
      expect(lines.map((l) => l.text)).toEqual(["token-present"]);
      expect(result.exitCode).toBe(0);
      const sent =
        kind === "kubernetes"
          ? kubernetes.requests.map((r) => `${r.url} ${JSON.stringify(r.headers)} ${r.body}`)
          : kind === "ephemeral"
            ? argo.requests.map((r) => `${r.url} ${JSON.stringify(r.headers)} ${r.body}`)
            : provider.requests;
      expect(sent.join("\n")).toContain("api");
      expect(sent.join("\n")).not.toContain(SECRET);
      expect(JSON.stringify(lines)).not.toContain(SECRET);
      expect(JSON.stringify(result)).not.toContain(SECRET);
    },
  );

  it("an unresolvable reference fails without revealing anything", async () => {
    const runner = new LocalRunner();
    const error = await runner
      .run({ command: ["true"], secretEnv: { API_TOKEN: SECRET }, jobIdentity: { jobId: "x" } })
      .catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).not.toContain(SECRET);
  });
});

describe("kubernetesEnv", () => {
  it("keeps plain values and turns secret references into secretKeyRefs, never values", () => {
    expect(kubernetesEnv({ env: { A: "1" }, secretEnv: { PW: "secret://db-creds/password" } })).toEqual([
      { name: "A", value: "1" },
      { name: "PW", valueFrom: { secretKeyRef: { name: "db-creds", key: "password" } } },
    ]);
    expect(() => kubernetesEnv({ secretEnv: { PW: "hunter2" } })).toThrow(/secretEnv.PW/);
  });

  it("refuses references that name no key of a Secret, which the kubelet could not resolve", () => {
    expect(kubernetesSecretKeyRef("PW", "secret://db.creds/pass_word-1.txt")).toEqual({
      name: "db.creds",
      key: "pass_word-1.txt",
    });
    for (const bad of ["secret://ssm//prod/db", "secret://arn:aws:ssm:eu-west-1:1:parameter/x", "secret://db/a:b"]) {
      expect(() => kubernetesSecretKeyRef("PW", bad)).toThrow(
        `secretEnv.PW: ${JSON.stringify(bad)} does not name a key of a Kubernetes Secret`,
      );
    }
  });
});
