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

  it("makes a fresh key pair every time", async () => {
    const [a, b] = await Promise.all([generateCertificate(), generateCertificate()]);
    expect(a.certPem).not.toBe(b.certPem);
  });
});
