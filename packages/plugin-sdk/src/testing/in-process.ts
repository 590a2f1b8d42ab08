/**
 * Test kit: run a plugin definition inside the test process (no subprocess,
 * no cookie check, no stdio capture) and get typed clients for it. Faster
 * than spawnPlugin for testing handlers; spawnPlugin proves the real process.
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import { ConfigureRequestSchema } from "@flotilla/protocol";
import { ConfigState, notConfiguredError } from "../configured.js";
import type { HandlerContext, PluginDefinition } from "../definition.js";
import { createLogger } from "../logger.js";
import { type PluginServer, type PluginServerOptions, startPluginServer } from "../server.js";
import { type PluginClient, pluginClient } from "./plugin-client.js";

/** A plugin served in-process, with a client factory and one call to stop it all. */
export interface InProcessPlugin {
  /** The running server (handshake, shutdown). */
  server: PluginServer;
  /** A typed client for one service; closed by {@link InProcessPlugin.close}. */
  client<S extends GenService<GenServiceMethods>>(service: S): PluginClient<S>;
  /** Closes every client and shuts the server down. */
  close(): Promise<void>;
}

/**
 * Serves `definition` in this process. Logs are discarded unless
 * `options.logger` is given.
 */
export async function servePluginInProcess<Config>(
  definition: PluginDefinition<Config>,
  options: PluginServerOptions = {},
): Promise<InProcessPlugin> {
  const server = await startPluginServer(definition, {
    env: {},
    logger: createLogger({ module: definition.name, write: () => {} }),
    ...options,
  });
  const clients: { close(): void }[] = [];
  return {
    server,
    client(service) {
      const c = pluginClient(server.handshake, service);
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients.splice(0)) c.close();
      await server.shutdown();
    },
  };
}

/**
 * A context for calling a plugin's handlers directly: no deadline, no
 * metadata, a silent logger, and `config` as given; without one, reading
 * `config` throws the "not configured yet" error a served plugin gives.
 */
export function handlerContext<Config = unknown>(
  overrides: Partial<HandlerContext<Config>> = {},
): HandlerContext<Config> {
  const context = {
    signal: new AbortController().signal,
    deadline: undefined,
    metadata: {},
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    ...overrides,
  };
  if ("config" in overrides) return context as HandlerContext<Config>;
  return Object.defineProperty(context, "config", {
    enumerable: true,
    get() {
      throw notConfiguredError("test");
    },
  }) as HandlerContext<Config>;
}

/**
 * Runs a definition's Configure exactly as the served plugin does (the
 * config checked against the declared `config`, then `provider.configure`
 * with it as `context.config`), for tests that call handlers directly
 * instead of over gRPC. Resolves to the config applied; rejects as Configure
 * would, e.g. with InvalidArgumentError naming a bad key.
 */
export async function configureDirectly<Config>(
  definition: PluginDefinition<Config>,
  request: MessageInitShape<typeof ConfigureRequestSchema>,
  context: Partial<HandlerContext<Config>> = {},
): Promise<Config> {
  const state = new ConfigState(definition.name, definition.config);
  const configure = state.configureHandler(definition.provider?.configure);
  await configure(create(ConfigureRequestSchema, request), handlerContext<Config>(context));
  return state.current();
}
