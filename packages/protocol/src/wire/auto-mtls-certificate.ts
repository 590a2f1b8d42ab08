/**
 * The AutoMTLS certificate both sides generate: the host as its client
 * certificate (PLUGIN_CLIENT_CERT), the plugin as its server certificate
 * (the handshake's SERVER-CERT). One generator, so the two cannot drift
 * apart in algorithm, extensions or validity.
 */

/** A certificate with its private key, both PEM, plus the certificate's DER. */
export interface GeneratedCertificate {
  /** The certificate, PEM. */
  certPem: string;
  /** The PKCS#8 private key, PEM. Never logged. */
  keyPem: string;
  /** The certificate, DER: what a handshake line carries (base64, unpadded). */
  certDer: Uint8Array;
}

function toPem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString("base64");
  return `-----BEGIN ${label}-----\n${b64.replace(/.{64}/g, "$&\n").replace(/\n$/, "")}\n-----END ${label}-----\n`;
}

/**
 * A self-signed ECDSA P-256 certificate for "localhost", valid for server and
 * client auth and marked CA, so the peer can pin it as its only trust root
 * (go-plugin's own generator does the same, with P-521; P-256 is faster).
 * @peculiar/x509 is loaded on first use: it is the heaviest dependency here,
 * and a process that never does AutoMTLS should not pay for it.
 */
export async function generateCertificate(commonName = "localhost"): Promise<GeneratedCertificate> {
  // @peculiar/x509 resolves its parsers through tsyringe, which needs the Reflect metadata polyfill loaded first.
  // (Its crypto provider defaults to Node's global WebCrypto, so none is set here.)
  await import("reflect-metadata");
  const x509 = await import("@peculiar/x509");
  const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = await globalThis.crypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
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
 * 16 random bytes as hex, with the first byte's top bits 01: the top bit clear makes
 * the serial positive, as X.509 requires, and the next bit set keeps it 16 bytes long
 * (a first byte of 0x00 would be dropped by DER's minimal encoding, one time in 256).
 */
function randomSerialNumber(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = ((bytes[0] ?? 0) & 0x3f) | 0x40;
  return Buffer.from(bytes).toString("hex");
}
