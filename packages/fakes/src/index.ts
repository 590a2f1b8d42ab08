// Filled in by later work; see this package's README.
export {};
/** Fake Kubernetes API server (pods, status, logs). */
export * from "./kubernetes/index.js";
/** Fake AWS APIs (ECS, CloudWatch Logs, EC2 regions). */
export * from "./aws/index.js";
/** Fake Argo Workflows server (submit, get, list, logs, delete). */
export * from "./argo/index.js";
