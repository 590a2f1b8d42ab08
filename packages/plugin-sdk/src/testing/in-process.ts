/**
 * Test kit: run a plugin definition inside the test process (no subprocess,
 * no cookie check, no stdio capture) and get typed clients for it. Faster
 * than spawnPlugin for testing handlers; spawnPlugin proves the real process.
 */
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import type { PluginDefinition } from "../definition.js";
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
