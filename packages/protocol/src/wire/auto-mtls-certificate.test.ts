import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { generateCertificate } from "./auto-mtls-certificate.js";

describe("generateCertificate", () => {
  it("makes a self-signed CA certificate for localhost, usable by client and server, with a matching key", async () => {
    const { certPem, keyPem, certDer } = await generateCertificate();
    const cert = new X509Certificate(certPem);
    expect(cert.subject).toContain("CN=localhost");
    expect(cert.ca).toBe(true);
    expect(cert.checkHost("localhost")).toBe("localhost");
    expect(cert.keyUsage).toEqual(expect.arrayContaining(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]));
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(Buffer.compare(cert.raw, Buffer.from(certDer))).toBe(0);
    expect(keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const { createPrivateKey } = await import("node:crypto");
    expect(cert.checkPrivateKey(createPrivateKey(keyPem))).toBe(true);
  });

  it("is valid from a minute ago (for clocks that disagree) for ten years", async () => {
    const before = Date.now();
    const cert = new X509Certificate((await generateCertificate()).certPem);
    const after = Date.now();
    // X.509 times have one-second resolution.
    const validFrom = Date.parse(cert.validFrom);
    expect(validFrom).toBeGreaterThanOrEqual(Math.floor((before - 60_000) / 1000) * 1000);
    expect(validFrom).toBeLessThanOrEqual(after - 60_000);
    const tenYears = 10 * 365 * 24 * 3600_000;
    const validTo = Date.parse(cert.validTo);
    expect(validTo).toBeGreaterThanOrEqual(Math.floor((before + tenYears) / 1000) * 1000);
    expect(validTo).toBeLessThanOrEqual(after + tenYears);
  });

  it("has a positive 16-byte serial number, as X.509 requires", async () => {
    // 64 certificates: a serial whose first byte could be 0x00 (shortened by DER) fails here one run in four.
    for (let i = 0; i < 64; i++) {
      const serial = new X509Certificate((await generateCertificate()).certPem).serialNumber;
      expect(serial).toMatch(/^[4-7][0-9A-F]{31}$/);
    }
  });

  it("is a version 3 certificate, signed with ECDSA over SHA-256, issued by itself", async () => {
    // An X.509 implementation of its own reads what the generator writes by hand (it needs the Reflect polyfill).
    await import("reflect-metadata");
    const x509 = await import("@peculiar/x509");
    const cert = new x509.X509Certificate((await generateCertificate()).certDer);
    expect(cert.signatureAlgorithm).toMatchObject({ name: "ECDSA", hash: { name: "SHA-256" } });
    expect(cert.subject).toBe("CN=localhost, O=Flotilla");
    expect(cert.issuer).toBe(cert.subject);
    expect(await cert.isSelfSigned()).toBe(true);
    const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
    expect(eku?.critical).toBe(false);
    expect(eku?.usages).toEqual([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]);
    // Version 3 ([0] EXPLICIT INTEGER 2) is the first member of the signed part.
    expect(Buffer.from(cert.rawData).includes(Buffer.from([0xa0, 0x03, 0x02, 0x01, 0x02]))).toBe(true);
  });

  it("writes validity past 2049 as GeneralizedTime, as RFC 5280 requires", async () => {
    const now = Date.UTC(2045, 5, 1, 12, 0, 0);
    const cert = new X509Certificate((await generateCertificate("localhost", now)).certPem);
    expect(Date.parse(cert.validFrom)).toBe(now - 60_000);
    expect(Date.parse(cert.validTo)).toBe(now + 10 * 365 * 24 * 3600_000);
    // 2055 as GeneralizedTime (tag 0x18, 15 characters); as UTCTime it would read 1955.
    expect(Buffer.from(cert.raw).includes(Buffer.from("\x18\x0f2055", "latin1"))).toBe(true);
  });

  it("marks its basic constraints and key usage critical, and names localhost as its DNS name", async () => {
    await import("reflect-metadata");
    const x509 = await import("@peculiar/x509");
    const cert = new x509.X509Certificate((await generateCertificate()).certDer);
    const basic = cert.getExtension(x509.BasicConstraintsExtension);
    expect(basic?.ca).toBe(true);
    expect(basic?.critical).toBe(true);
    const usage = cert.getExtension(x509.KeyUsagesExtension);
    expect(usage?.critical).toBe(true);
    expect(usage?.usages).toBe(
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.keyCertSign,
    );
    expect(new X509Certificate(Buffer.from(cert.rawData)).subjectAltName).toBe("DNS:localhost");
  });

  it("writes the key as PEM with 64-character lines", async () => {
    const { keyPem } = await generateCertificate();
    const lines = keyPem.trimEnd().split("\n");
    expect(lines[0]).toBe("-----BEGIN PRIVATE KEY-----");
    expect(lines.at(-1)).toBe("-----END PRIVATE KEY-----");
    const body = lines.slice(1, -1);
    expect(body.length).toBeGreaterThan(1);
    for (const line of body.slice(0, -1)) expect(line).toHaveLength(64);
    expect(body.at(-1)?.length).toBeGreaterThan(0);
    expect(body.at(-1)?.length).toBeLessThanOrEqual(64);
    expect(keyPem.endsWith("-----END PRIVATE KEY-----\n")).toBe(true);
  });

  it("makes a fresh key pair every time", async () => {
    const [a, b] = await Promise.all([generateCertificate(), generateCertificate()]);
    expect(a.certPem).not.toBe(b.certPem);
  });
});
