/**
 * go-plugin's AutoMTLS, plugin side: the host puts its client certificate
 * (PEM) in PLUGIN_CLIENT_CERT; the plugin answers with a fresh self-signed
 * server certificate in the handshake line, serves TLS, and accepts only
 * clients presenting exactly the host's certificate. Both sides pin.
 */
import { X509Certificate } from "node:crypto";
import { HandshakeEnv } from "@flotilla/protocol";
import { ServerCredentials } from "@grpc/grpc-js";
import { PluginStartupError } from "./startup-error.js";

/** A certificate with its private key, both PEM, plus the certificate's DER. */
export interface GeneratedCertificate {
  /** The certificate, PEM. */
  certPem: string;
  /** The PKCS#8 private key, PEM. Never logged. */
  keyPem: string;
  /** The certificate, DER: what the handshake line carries. */
  certDer: Uint8Array;
}

/** TLS material for the server, or nothing when the host did not ask for TLS. */
export interface ServerTls {
  /** Credentials for grpc-js `bindAsync`. */
  credentials: ServerCredentials;
  /** The server certificate's DER, for the handshake line. */
  serverCertDer: Uint8Array | undefined;
}

function toPem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString("base64");
  return `-----BEGIN ${label}-----\n${b64.replace(/.{64}/g, "$&\n").replace(/\n$/, "")}\n-----END ${label}-----\n`;
}

/**
 * A self-signed ECDSA P-256 certificate for "localhost", usable by either
 * side (serverAuth and clientAuth), marked CA so peers can pin it as a root,
 * as go-plugin's own generator does. @peculiar/x509 is loaded lazily: it is
 * the heaviest dependency, and a host that turns AutoMTLS off (or a test) need
 * not pay for it; Flotilla's host turns AutoMTLS on by default.
 */
export async function generateCertificate(commonName = "localhost"): Promise<GeneratedCertificate> {
  // @peculiar/x509 resolves its parsers through tsyringe, which needs the Reflect metadata polyfill loaded first.
  await import("reflect-metadata");
  const x509 = await import("@peculiar/x509");
  x509.cryptoProvider.set(globalThis.crypto);
  const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = await globalThis.crypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(16)))
      .toString("hex")
      .replace(/^[89a-f]/, "1"),
    name: `CN=${commonName}, O=Flotilla`,
    // A little slack for clocks that disagree between host and plugin.
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 10 * 365 * 24 * 3600_000),
    signingAlgorithm: algorithm,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.keyCertSign,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: "dns", value: "localhost" }]),
    ],
  });
  const pkcs8 = await globalThis.crypto.subtle.exportKey("pkcs8", keys.privateKey);
  return { certPem: cert.toString("pem"), keyPem: toPem("PRIVATE KEY", pkcs8), certDer: new Uint8Array(cert.rawData) };
}

/**
 * Reads PLUGIN_CLIENT_CERT and builds the server's TLS credentials, or
 * insecure credentials when it is unset. Node's HTTP/2 server offers ALPN
 * "h2", which grpc-go ≥ 1.67 hosts require.
 */
export async function serverTlsFromEnv(env: NodeJS.ProcessEnv): Promise<ServerTls> {
  const clientCertPem = env[HandshakeEnv.clientCert];
  if (!clientCertPem) return { credentials: ServerCredentials.createInsecure(), serverCertDer: undefined };
  try {
    new X509Certificate(clientCertPem);
  } catch (err) {
    throw new PluginStartupError(
      `${HandshakeEnv.clientCert} is set but is not a PEM certificate (${(err as Error).message}); ` +
        "the host must pass its AutoMTLS client certificate, PEM encoded, or leave the variable unset",
      { cause: err },
    );
  }
  const server = await generateCertificate();
  const credentials = ServerCredentials.createSsl(
    Buffer.from(clientCertPem),
    [{ private_key: Buffer.from(server.keyPem), cert_chain: Buffer.from(server.certPem) }],
    true,
  );
  return { credentials, serverCertDer: server.certDer };
}
