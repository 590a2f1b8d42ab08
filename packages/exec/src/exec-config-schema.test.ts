import { describe, expect, it } from "vitest";
import { ExecConfigError, validateExecEnvironments } from "./exec-config-schema.js";

function problemsOf(section: unknown): readonly string[] {
  try {
    validateExecEnvironments(section);
  } catch (error) {
    if (error instanceof ExecConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected the section to be rejected");
}

describe("validateExecEnvironments", () => {
  it("accepts every kind with its settings", () => {
    const section = {
      local: { kind: "local", max_concurrent: 2 },
      docker: {
        kind: "local-docker",
        socket_path: "/run/podman/podman.sock",
        pull: "never",
        failed_retention_seconds: 600,
      },
      "k8s-eu": { kind: "kubernetes", namespace: "jobs", poll_interval_seconds: 0.5, max_concurrent: 10 },
      "argo-main": { kind: "argo", url: "https://argo.example.com:2746", namespace: "argo", token_env: "ARGO_TOKEN" },
      ephemeral: { kind: "ephemeral", argo_module: "argo-main", ttl_seconds_after_completion: 120 },
      fargate: { kind: "provider", provider: "aws", target: { awsEcs: { cluster: "jobs" } } },
      hooks: {
        kind: "http",
        max_attempts: 3,
        base_delay_seconds: 0.2,
        max_delay_seconds: 5,
        max_response_bytes: 1048576,
      },
    };
    expect(validateExecEnvironments(section)).toBe(section);
    expect(validateExecEnvironments(undefined)).toEqual({});
  });

  it("names the key path, what was expected and what was found", () => {
    expect(problemsOf({ "k8s-eu": { kind: "kubernetes", namespace: 42 } })).toEqual([
      "exec_environments.k8s-eu.namespace: must be a DNS label (lower case letters, digits, '-'): the namespace the Pods are created in, got a number",
    ]);
    expect(problemsOf({ "k8s-eu": { kind: "kubernetes" } })).toEqual([
      "exec_environments.k8s-eu.namespace: is required: it must be a DNS label (lower case letters, digits, '-'): the namespace the Pods are created in",
    ]);
    expect(problemsOf({ runner: { kind: "local", max_concurrent: 0 } })).toEqual([
      "exec_environments.runner.max_concurrent: must be a whole number of at least 1: how many runs may be in progress at once (more wait in a queue), got a number",
    ]);
  });

  it("rejects unknown kinds and settings, listing what is allowed", () => {
    expect(problemsOf({ x: { kind: "lambda" } })).toEqual([
      "exec_environments.x.kind: must be one of local, local-docker, kubernetes, argo, ephemeral, provider, http, got a string of 6 characters",
    ]);
    expect(problemsOf({ x: {} })).toEqual([
      "exec_environments.x.kind: is required: it must be one of local, local-docker, kubernetes, argo, ephemeral, provider, http",
    ]);
    expect(problemsOf({ x: { kind: "local", image: "busybox" } })).toEqual([
      "exec_environments.x.image: is not a known key; known keys are: kind, max_concurrent, inherit_env",
    ]);
  });

  it("refuses the reserved name provider-ephemeral", () => {
    expect(problemsOf({ "provider-ephemeral": { kind: "local" } })[0]).toMatch(
      /^exec_environments\.provider-ephemeral: "provider-ephemeral" is reserved .*choose another name/,
    );
  });

  it("reports every problem at once, not just the first", () => {
    const problems = problemsOf({
      a: { kind: "argo", url: "ftp://x", namespace: "argo" },
      b: { kind: "local-docker", socket_path: "/s", host: "http://h:1" },
      c: "local",
    });
    expect(problems).toEqual([
      "exec_environments.a.url: must be the Argo server's http(s) URL, e.g. https://argo.example.com:2746, got a string of 7 characters",
      "exec_environments.b: set socket_path or host, not both",
      "exec_environments.c: must be a mapping with at least a kind, got a string of 5 characters",
    ]);
  });
});
