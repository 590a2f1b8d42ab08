/**
 * The client end of a plugin's gRPC channel, from its handshake: the address,
 * AutoMTLS credentials pinned to the certificate the plugin printed, and the
 * channel options every client of a plugin needs. The host and the SDK's test
 * kit both connect through this, so a plugin that passes its tests connects to
 * a host the same way.
 */
import { X509Certificate } from "node:crypto";
import type { PeerCertificate } from "node:tls";
import { type ChannelCredentials, type ChannelOptions, credentials } from "@grpc/grpc-js";
import type { Handshake } from "./handshake.js";

/** A PEM certificate and its PEM (PKCS#8) private key: the client's side of AutoMTLS. */
export interface CertificatePair {
  /** The certificate, PEM (what the host put in PLUGIN_CLIENT_CERT). */
  certPem: string;
  /** Its private key, PEM. Never logged. */
  keyPem: string;
}

/**
 * The largest message either side sends or accepts: 16 MiB. grpc-js's own
 * default is 4 MiB for receiving, which a large resource list or log page passes.
 */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** The grpc-js target for a handshake's network and address: `unix:/path` or `host:port`. */
export function pluginTarget(handshake: Pick<Handshake, "network" | "address">): string {
  return handshake.network === "unix" ? `unix:${handshake.address}` : handshake.address;
}

/** PEM of a DER certificate, as a handshake line carries it. */
export function derToPem(der: Uint8Array): string {
  return new X509Certificate(Buffer.from(der)).toString();
}

/** The message of the error a pinned channel fails with when the server shows another certificate. */
export const PIN_MISMATCH_MESSAGE =
  "the plugin's TLS certificate is not the one it announced in its handshake (AutoMTLS pin mismatch)";

/**
 * Channel credentials presenting `client` and accepting only a server whose
 * certificate is byte for byte `serverCertDer`: pinning, as go-plugin does, not
 * a CA or host name check.
 */
export function pinnedChannelCredentials(client: CertificatePair, serverCertDer: Uint8Array): ChannelCredentials {
  const pinned = Buffer.from(serverCertDer);
  return credentials.createSsl(
    Buffer.from(derToPem(serverCertDer)),
    Buffer.from(client.keyPem),
    Buffer.from(client.certPem),
    {
      checkServerIdentity: (_host: string, cert: PeerCertificate) =>
        cert.raw && pinned.equals(cert.raw) ? undefined : new Error(PIN_MISMATCH_MESSAGE),
    },
  );
}

/** What a grpc-js client of a plugin is built from. */
export interface PluginChannel {
  /** The grpc-js target. */
  target: string;
  /** Plaintext, or AutoMTLS pinned to the handshake's certificate. */
  credentials: ChannelCredentials;
  /** Message size limits, and the name the certificate is checked against under TLS. */
  options: ChannelOptions;
}

/**
 * The channel to the plugin that printed `handshake`. A handshake with a server
 * certificate needs `clientCertificate` (the one whose PEM the plugin got in
 * PLUGIN_CLIENT_CERT): such a plugin accepts no other client.
 */
export function pluginChannel(handshake: Handshake, clientCertificate?: CertificatePair): PluginChannel {
  const options: ChannelOptions = {
    "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
    "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
  };
  if (!handshake.serverCertDer) {
    return { target: pluginTarget(handshake), credentials: credentials.createInsecure(), options };
  }
  if (!clientCertificate) {
    throw new TypeError(
      "the plugin serves AutoMTLS (its handshake carries a server certificate); pass the client certificate whose PEM the plugin received in PLUGIN_CLIENT_CERT",
    );
  }
  // The certificate is issued to "localhost"; a Unix socket path is not a host name.
  options["grpc.ssl_target_name_override"] = "localhost";
  options["grpc.default_authority"] = "localhost";
  return {
    target: pluginTarget(handshake),
    credentials: pinnedChannelCredentials(clientCertificate, handshake.serverCertDer),
    options,
  };
}
