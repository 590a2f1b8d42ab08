/**
 * @flotilla/plugin-sdk — write a Flotilla provider plugin: implement the
 * services you support and call `serve()`.
 */
export {
  AlreadyExistsError,
  CanceledError,
  Code,
  DeadlineExceededError,
  FailedPreconditionError,
  FlotillaError,
  type FlotillaErrorOptions,
  InternalError,
  InvalidArgumentError,
  isFlotillaError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
  UnimplementedError,
} from "@flotilla/protocol";
export * from "./definition.js";
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
