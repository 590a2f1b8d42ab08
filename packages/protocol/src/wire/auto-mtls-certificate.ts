/**
 * The AutoMTLS certificate both sides generate: the host as its client
 * certificate (PLUGIN_CLIENT_CERT), the plugin as its server certificate
 * (the handshake's SERVER-CERT). One generator, so the two cannot drift
 * apart in algorithm, extensions or validity.
 *
 * Made with node:crypto alone: the key pair and the signature are Node's, and the certificate around them is
 * a handful of fixed DER structures (RFC 5280) written here. A general X.509 library cost every plugin start
 * and every host ~100–300 ms of module loading and tens of megabytes for a certificate whose shape never
 * changes. The tests read the result back with Node's X509Certificate and an independent X.509 parser, and
 * Go's crypto/x509 accepts it in the go-plugin interop tests.
 */
import { generateKeyPairSync, randomBytes, sign } from "node:crypto";

/** A certificate with its private key, both PEM, plus the certificate's DER. */
export interface GeneratedCertificate {
  /** The certificate, PEM. */
  certPem: string;
  /** The PKCS#8 private key, PEM. Never logged. */
  keyPem: string;
  /** The certificate, DER: what a handshake line carries (base64, unpadded). */
  certDer: Uint8Array;
}

function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString("base64");
  return `-----BEGIN ${label}-----\n${b64.replace(/.{64}/g, "$&\n").replace(/\n$/, "")}\n-----END ${label}-----\n`;
}

/**
 * A self-signed ECDSA P-256 certificate for "localhost", valid for server and
 * client auth and marked CA, so the peer can pin it as its only trust root
 * (go-plugin's own generator does the same, with P-521; P-256 is faster).
 */
export async function generateCertificate(commonName = "localhost", now = Date.now()): Promise<GeneratedCertificate> {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const name = der.sequence(
    der.set(der.sequence(der.oid(OID.commonName), der.utf8(commonName))),
    der.set(der.sequence(der.oid(OID.organization), der.utf8("Flotilla"))),
  );
  const ecdsaWithSha256 = der.sequence(der.oid(OID.ecdsaWithSha256));
  const tbs = der.sequence(
    der.explicit(0, der.integer(Uint8Array.of(2))), // v3
    der.integer(randomSerialNumber()),
    ecdsaWithSha256,
    name,
    // A little slack for clocks that disagree between host and plugin.
    der.sequence(der.time(new Date(now - 60_000)), der.time(new Date(now + 10 * 365 * 24 * 3600_000))),
    name,
    new Uint8Array(publicKey.export({ type: "spki", format: "der" })),
    der.explicit(
      3,
      der.sequence(
        extension(OID.basicConstraints, true, der.sequence(der.boolean(true))),
        // digitalSignature (bit 0), keyEncipherment (bit 2), keyCertSign (bit 5): 1010 0100, two unused bits.
        extension(OID.keyUsage, true, der.bitString(Uint8Array.of(0b1010_0100), 2)),
        extension(OID.extendedKeyUsage, false, der.sequence(der.oid(OID.serverAuth), der.oid(OID.clientAuth))),
        // GeneralName dNSName is [2] IMPLICIT IA5String.
        extension(OID.subjectAltName, false, der.sequence(der.tagged(0x82, Buffer.from("localhost", "ascii")))),
      ),
    ),
  );
  const signature = sign("sha256", tbs, { key: privateKey, dsaEncoding: "der" });
  const certDer = der.sequence(tbs, ecdsaWithSha256, der.bitString(new Uint8Array(signature), 0));
  const pkcs8 = new Uint8Array(privateKey.export({ type: "pkcs8", format: "der" }));
  return { certPem: toPem("CERTIFICATE", certDer), keyPem: toPem("PRIVATE KEY", pkcs8), certDer };
}

/** The object identifiers the certificate uses (RFC 5280 §4.1, §4.2; RFC 5758 §3.2 for the signature). */
const OID = {
  commonName: "2.5.4.3",
  organization: "2.5.4.10",
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extendedKeyUsage: "2.5.29.37",
  subjectAltName: "2.5.29.17",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
} as const;

function extension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  // `critical` is DEFAULT FALSE, and DER leaves a default value out.
  return der.sequence(der.oid(oid), ...(critical ? [der.boolean(true)] : []), der.octetString(value));
}

/**
 * 16 random bytes with the first byte's top bits 01: the top bit clear makes the serial positive, as X.509
 * requires, and the next bit set keeps it 16 bytes long (a first byte of 0x00 would not be minimal DER).
 */
function randomSerialNumber(): Uint8Array {
  const bytes = new Uint8Array(randomBytes(16));
  bytes[0] = ((bytes[0] ?? 0) & 0x3f) | 0x40;
  return bytes;
}

/** The few DER encodings (X.690 §8, §10) a certificate is made of. */
const der = {
  tagged(tag: number, content: Uint8Array): Uint8Array {
    const length = content.length;
    let header: number[];
    if (length < 0x80) header = [tag, length];
    else {
      const lengthBytes: number[] = [];
      for (let rest = length; rest > 0; rest >>= 8) lengthBytes.unshift(rest & 0xff);
      header = [tag, 0x80 | lengthBytes.length, ...lengthBytes];
    }
    const out = new Uint8Array(header.length + length);
    out.set(header);
    out.set(content, header.length);
    return out;
  },
  sequence: (...members: Uint8Array[]) => der.tagged(0x30, Buffer.concat(members)),
  set: (...members: Uint8Array[]) => der.tagged(0x31, Buffer.concat(members)),
  explicit: (number: number, content: Uint8Array) => der.tagged(0xa0 | number, content),
  boolean: (value: boolean) => der.tagged(0x01, Uint8Array.of(value ? 0xff : 0x00)),
  /** A non-negative integer given as big-endian bytes whose top bit is clear (so no sign byte is needed). */
  integer: (bytes: Uint8Array) => der.tagged(0x02, bytes),
  bitString: (bytes: Uint8Array, unusedBits: number) => der.tagged(0x03, Uint8Array.of(unusedBits, ...bytes)),
  octetString: (bytes: Uint8Array) => der.tagged(0x04, bytes),
  utf8: (text: string) => der.tagged(0x0c, Buffer.from(text, "utf8")),
  oid(dotted: string): Uint8Array {
    const [first = 0, second = 0, ...rest] = dotted.split(".").map(Number);
    const bytes = [40 * first + second];
    for (const arc of rest) {
      const base128 = [arc & 0x7f];
      for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128))
        base128.unshift(0x80 | (value & 0x7f));
      bytes.push(...base128);
    }
    return der.tagged(0x06, Uint8Array.from(bytes));
  },
  /** UTCTime through 2049, GeneralizedTime from 2050 on (RFC 5280 §4.1.2.5), to the second, in UTC. */
  time(date: Date): Uint8Array {
    const iso = date.toISOString(); // 2026-11-28T13:05:31.123Z
    const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
    return date.getUTCFullYear() < 2050
      ? der.tagged(0x17, Buffer.from(digits.slice(2), "ascii"))
      : der.tagged(0x18, Buffer.from(digits, "ascii"));
  },
};
