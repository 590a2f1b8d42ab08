/**
 * The host's gRPC client of a plugin: the channel every client of a plugin
 * uses (@flotilla/protocol/wire), with reconnects tuned for a local process.
 */
import type { Handshake } from "@flotilla/protocol/wire";
import { type CertificatePair, pluginChannel } from "@flotilla/protocol/wire";
import { Client } from "@grpc/grpc-js";

/** Opens a client on the plugin's address; the channel connects lazily. */
export function openPluginClient(handshake: Handshake, clientCert: CertificatePair | undefined): Client {
  const { target, credentials, options } = pluginChannel(handshake, clientCert);
  return new Client(target, credentials, {
    ...options,
    // Plugins are local: fail fast instead of backing off for seconds between reconnects.
    "grpc.initial_reconnect_backoff_ms": 100,
    "grpc.max_reconnect_backoff_ms": 1000,
    "grpc.enable_retries": 0,
  });
}
