/**
 * @flotilla/plugin-local — the embedded default provider: jobs run as local
 * processes. Run `dist/main.js` through a Flotilla host; import this module
 * to embed or test the provider's pieces.
 */
export * from "./config.js";
export * from "./definition.js";
export * from "./job-log.js";
export * from "./local-job.js";
export * from "./local-runner.js";
export * from "./regions.js";
export * from "./secret-ref.js";
