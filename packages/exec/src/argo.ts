/**
 * `@flotilla/exec/argo`: the `ephemeral` execution environment — a
 * single-container Argo Workflow per run — and the small typed client of the
 * Argo Workflows server it uses (HTTP through fetch; no client package). The
 * exec_env factory imports this entry point only when an Argo instance or an
 * ephemeral environment is configured.
 */
export { ArgoApiError, ArgoClient, type ArgoConnection, type ArgoWorkflow } from "./argo-client.js";
export { ArgoRunner, type ArgoRunnerOptions } from "./argo-runner.js";
