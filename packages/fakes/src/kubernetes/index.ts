/** The fake Kubernetes API server and the pieces the other fakes reuse. */

export { FaultPlan, type RecordedRequest } from "./fake-http.js";
export { FakeKubernetes, type FakeKubernetesOptions } from "./fake-kubernetes.js";
export { ProcessContainer, type ProcessContainerSpec, type ProcessContainerState } from "./process-container.js";
