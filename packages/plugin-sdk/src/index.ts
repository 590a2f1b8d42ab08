/**
 * @flotilla/plugin-sdk — write a Flotilla provider plugin: implement the
 * services you support and call `serve()`.
 */
/**
 * The contract (message types, enums such as JobState, service descriptors)
 * and the error classes, so a plugin needs only this package.
 */
export * from "@flotilla/protocol";
export { checkAgainstSchema, formatProblems, type SchemaNode, type SchemaProblem } from "@flotilla/protocol";
export * from "./definition.js";
export { type ConfigChange, canonicalJson, type DiffRules, diffConfig, maskedJson } from "./json-diff.js";
export { STDIN_LIFELINE_ENV } from "./lifecycle.js";
export { NETWORK_ENV } from "./listener.js";
export { createLogger, type LoggerOptions, type LogLevel } from "./logger.js";
export { SDK_NAME_AND_VERSION, SDK_VERSION } from "./sdk-version.js";
export { type ServeOptions, serve } from "./serve.js";
export {
  DEFAULT_GRACE_PERIOD_MS,
  DEFAULT_MAX_MESSAGE_BYTES,
  type PluginServer,
  type PluginServerOptions,
  type ShutdownReason,
  startPluginServer,
} from "./server.js";
export { PluginStartupError } from "./startup-error.js";
export { StdioRelay } from "./stdio.js";
