/**
 * @flotilla/process — Node process utilities that the host, the exec runners and the local provider share,
 * each defined once: splitting child-process output into lines, whether a process or process group is alive,
 * signalling and stopping a process group, a signal-aware sleep, the watchdog that kills an owner's groups when it dies,
 * and the compiled-module cache every Flotilla executable starts with.
 */
export { compileCacheDirectory, enableModuleCompileCache } from "./compile-cache.js";
export {
  type ProcessGroupRegistry,
  ProcessGroupWatchdog,
  type ProcessGroupWatchdogOptions,
  processGroupWatchdogSupported,
} from "./group-watchdog.js";
export {
  DEFAULT_MAX_LINE_BYTES,
  type LineHandler,
  LineSplitter,
  MIN_MAX_LINE_BYTES,
} from "./line-splitter.js";
export { isProcessAlive, isProcessGroupAlive } from "./liveness.js";
export { type LongTimeoutOptions, MAX_TIMER_DELAY_MS, setLongTimeout } from "./long-timeout.js";
export { DEFAULT_OUTPUT_DRAIN_MS, drainStreams } from "./output-drain.js";
export {
  type LeftoverStopOptions,
  signalProcessGroup,
  stopGroupLeftovers,
  type TerminateOptions,
  terminateProcessGroup,
} from "./process-group.js";
export { sleep } from "./sleep.js";
