/**
 * The gRPC channel to a plugin from its handshake: `unix:` or TCP, with
 * pinned AutoMTLS credentials or plaintext.
 */

import type { Handshake } from "@flotilla/protocol";
import { type ChannelCredentials, type ChannelOptions, Client, credentials } from "@grpc/grpc-js";
import { type CertificatePair, pinnedChannelCredentials } from "./auto-mtls.js";

/** The grpc-js target string for a handshake's network and address. */
export function targetOf(handshake: Handshake): string {
  return handshake.network === "unix" ? `unix:${handshake.address}` : handshake.address;
}

/** Opens a client on the plugin's address; the channel connects lazily. */
export function openPluginClient(handshake: Handshake, clientCert: CertificatePair | undefined): Client {
  let creds: ChannelCredentials;
  const options: ChannelOptions = {
    // Plugins are local: fail fast instead of backing off for seconds between reconnects.
    "grpc.initial_reconnect_backoff_ms": 100,
    "grpc.max_reconnect_backoff_ms": 1000,
    "grpc.max_receive_message_length": 16 * 1024 * 1024,
    "grpc.enable_retries": 0,
  };
  if (clientCert && handshake.serverCertDer) {
    creds = pinnedChannelCredentials(clientCert, handshake.serverCertDer);
    // The certificate says "localhost"; a Unix socket path is not a host name.
    options["grpc.ssl_target_name_override"] = "localhost";
    options["grpc.default_authority"] = "localhost";
  } else {
    creds = credentials.createInsecure();
  }
  return new Client(targetOf(handshake), creds, options);
}
