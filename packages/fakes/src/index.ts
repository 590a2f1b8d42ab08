// Filled in by later work; see this package's README.

/** Fake Argo Workflows server (submit, get, list, logs, delete). */
export * from "./argo/index.js";
/** Fake AWS APIs (ECS, CloudWatch Logs, EC2 regions). */
export * from "./aws/index.js";
/** Fake Google Cloud APIs (Cloud Run Admin v2, Cloud Logging v2, Locations) over gRPC. */
export * from "./gcp/index.js";
/** Fake Kubernetes API server (pods, status, logs). */
export * from "./kubernetes/index.js";
