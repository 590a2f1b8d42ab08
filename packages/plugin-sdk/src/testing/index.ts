/**
 * @flotilla/plugin-sdk/testing — start a plugin as a host would and call it
 * with typed clients, for plugin authors' tests.
 */
export { type GeneratedCertificate, generateCertificate } from "@flotilla/protocol";
export * from "./in-process.js";
export * from "./plugin-client.js";
export * from "./spawn-plugin.js";
