/**
 * go-plugin's AutoMTLS, host side: a fresh self-signed client certificate
 * per plugin start (passed as PLUGIN_CLIENT_CERT), and channel credentials
 * that trust exactly the server certificate the plugin printed in its
 * handshake — pinning, not a CA or host name check.
 */
import { X509Certificate } from "node:crypto";
import type { PeerCertificate } from "node:tls";
import { generateCertificate as generateSharedCertificate } from "@flotilla/protocol";
import { type ChannelCredentials, credentials } from "@grpc/grpc-js";

/** A PEM certificate and its PEM (PKCS#8) private key. */
export interface CertificatePair {
  certPem: string;
  keyPem: string;
}

/**
 * A self-signed certificate for the host's side of AutoMTLS: the one
 * generator both sides share, in @flotilla/protocol.
 */
export async function generateCertificate(): Promise<CertificatePair> {
  const { certPem, keyPem } = await generateSharedCertificate();
  return { certPem, keyPem };
}

/** PEM of a DER certificate, as printed in a handshake. */
export function derToPem(der: Uint8Array): string {
  return new X509Certificate(Buffer.from(der)).toString();
}

/** Error thrown by the pinning check; the message says what to suspect. */
export function pinMismatchMessage(): string {
  return "the plugin's TLS certificate is not the one it announced in its handshake (AutoMTLS pin mismatch)";
}

/**
 * Channel credentials presenting `client` and accepting only a server whose
 * certificate is byte-for-byte `serverCertDer`.
 */
export function pinnedChannelCredentials(client: CertificatePair, serverCertDer: Uint8Array): ChannelCredentials {
  const pinned = Buffer.from(serverCertDer);
  return credentials.createSsl(
    Buffer.from(derToPem(serverCertDer)),
    Buffer.from(client.keyPem),
    Buffer.from(client.certPem),
    {
      checkServerIdentity: (_host: string, cert: PeerCertificate) =>
        cert.raw && pinned.equals(cert.raw) ? undefined : new Error(pinMismatchMessage()),
    },
  );
}
