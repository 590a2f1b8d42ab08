/** The fake Argo Workflows server. */
export { FakeArgo, type FakeArgoOptions } from "./fake-argo.js";
