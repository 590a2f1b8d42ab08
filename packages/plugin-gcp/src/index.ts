/**
 * The GCP provider plugin's building blocks so far: lazily loaded Google Cloud
 * clients, the region lister and the error map. The runner and the resource
 * driver are still to come (see this package's README).
 */
export { type GcpClientSettings, GcpClients, type GcpServiceAccountKey } from "./clients.js";
export { type GcpEndpoint, parseGcpEndpoint } from "./endpoint.js";
export { translateGcpError } from "./errors.js";
export { listGcpRegions } from "./regions.js";
