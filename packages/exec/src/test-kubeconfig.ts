/**
 * Test helper: a KubeConfig pointing a real @kubernetes/client-node at a
 * plain-HTTP fake API server, as a kubeconfig file with `server:
 * http://127.0.0.1:PORT` would.
 */
import { KubeConfig } from "@kubernetes/client-node";

/** A KubeConfig for the API server at `server`, with no credentials. */
export function kubeConfigFor(server: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: "fake", server, skipTLSVerify: true }],
    users: [{ name: "tester" }],
    contexts: [{ name: "fake", cluster: "fake", user: "tester", namespace: "default" }],
    currentContext: "fake",
  });
  return config;
}
