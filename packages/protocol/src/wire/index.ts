/**
 * @flotilla/protocol/wire — how a host reaches a plugin process, below the
 * contract: the plugin's environment, its handshake line, and the gRPC channel
 * to it. For hosts and test kits; plugin authors do not need it.
 */
export * from "./handshake-line.js";
export * from "./plugin-channel.js";
export * from "./plugin-environment.js";
