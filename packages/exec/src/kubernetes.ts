/**
 * `@flotilla/exec/kubernetes`: the `kubernetes` execution environment — a
 * Pod per run through the Kubernetes API. Loads @kubernetes/client-node (an
 * optional peer dependency: install it beside @flotilla/exec). The exec_env
 * factory imports this entry point only when a kubernetes environment is
 * configured.
 */
export {
  type KubeConfigSettings,
  KubernetesRunner,
  type KubernetesRunnerOptions,
  loadKubeConfig,
} from "./kubernetes-runner.js";
