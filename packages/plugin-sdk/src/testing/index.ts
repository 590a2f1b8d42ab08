/**
 * @flotilla/plugin-sdk/testing — start a plugin as a host would and call it
 * with typed clients, for plugin authors' tests.
 */
/** The AutoMTLS certificate a test hands a plugin as its host's (PLUGIN_CLIENT_CERT). */
export { type GeneratedCertificate, generateCertificate } from "@flotilla/protocol/wire";
/**
 * The server under `serve()` without any process state (no cookie check, no stdio capture, no
 * signal handlers): what `servePluginInProcess` runs, for tests that need the handshake itself.
 */
export {
  type PluginServer,
  type PluginServerOptions,
  type ShutdownReason,
  startPluginServer,
} from "../server.js";
export { PluginStartupError } from "../startup-error.js";
export * from "./conformance.js";
export * from "./in-process.js";
export * from "./plugin-client.js";
export * from "./spawn-plugin.js";
