/**
 * go-plugin's AutoMTLS, host side: a fresh self-signed client certificate
 * per plugin start (passed as PLUGIN_CLIENT_CERT), and channel credentials
 * that trust exactly the server certificate the plugin printed in its
 * handshake — pinning, not a CA or host name check.
 */
import { webcrypto, X509Certificate } from "node:crypto";
import type { PeerCertificate } from "node:tls";
import { type ChannelCredentials, credentials } from "@grpc/grpc-js";

/** A PEM certificate and its PEM (PKCS#8) private key. */
export interface CertificatePair {
  certPem: string;
  keyPem: string;
}

const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/**
 * A self-signed ECDSA certificate for "localhost", valid for client and server
 * auth and marked as a CA so the peer can use it directly as its only trust
 * root (what go-plugin's generateCert does, with P-256 because it is faster).
 */
export async function generateCertificate(): Promise<CertificatePair> {
  const x509 = await loadX509();
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const serial = Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)));
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial.toString("hex"),
      name: "CN=localhost, O=Flotilla",
      notBefore: new Date(Date.now() - 30_000),
      notAfter: new Date(Date.now() + 30 * 24 * 3600_000),
      keys,
      signingAlgorithm: algorithm,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.keyCertSign,
          true,
        ),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: "dns", value: "localhost" }]),
      ],
    },
    webcrypto as never,
  );
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  return { certPem: cert.toString("pem"), keyPem: x509.PemConverter.encode(pkcs8, "PRIVATE KEY") };
}

/**
 * Loads @peculiar/x509 on first use (it is large and only needed under
 * AutoMTLS); its dependency tsyringe insists on the reflect-metadata polyfill
 * being loaded first.
 */
async function loadX509(): Promise<typeof import("@peculiar/x509")> {
  await import("reflect-metadata");
  return import("@peculiar/x509");
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
