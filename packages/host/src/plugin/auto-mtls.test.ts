import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { create } from "@bufbuild/protobuf";
import { ListRegionsResponseSchema, RegionListerService, UnavailableError } from "@flotilla/protocol";
import { type CertificatePair, derToPem, grpcServiceDefinition } from "@flotilla/protocol/wire";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unaryCall } from "../rpc/unary-call.js";
import { generateCertificate } from "./auto-mtls.js";
import { openPluginClient } from "./connection.js";

let clientCert: CertificatePair;
let serverCert: CertificatePair;
let server: grpc.Server;
const dir = mkdtempSync("/tmp/fl-tls-");
const address = `${dir}/s.sock`;

beforeAll(async () => {
  [clientCert, serverCert] = await Promise.all([generateCertificate(), generateCertificate()]);
  server = new grpc.Server();
  server.addService(grpcServiceDefinition(RegionListerService), {
    listRegions: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, create(ListRegionsResponseSchema, {})),
  });
  const creds = grpc.ServerCredentials.createSsl(
    Buffer.from(clientCert.certPem),
    [{ private_key: Buffer.from(serverCert.keyPem), cert_chain: Buffer.from(serverCert.certPem) }],
    true,
  );
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix:${address}`, creds, (err) => (err ? reject(err) : resolve())),
  );
});

afterAll(() => {
  server.forceShutdown();
  rmSync(dir, { recursive: true, force: true });
});

function der(pair: CertificatePair): Uint8Array {
  return new Uint8Array(new X509Certificate(pair.certPem).raw);
}

describe("generateCertificate", () => {
  it("makes a self-signed CA certificate for localhost with a PKCS#8 key", () => {
    const cert = new X509Certificate(clientCert.certPem);
    expect(cert.subject).toContain("CN=localhost");
    expect(cert.ca).toBe(true);
    expect(cert.checkHost("localhost")).toBe("localhost");
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(clientCert.keyPem).toContain("-----BEGIN PRIVATE KEY-----");
    expect(derToPem(der(clientCert))).toBe(cert.toString());
  });
});

describe("pinned mutual TLS", () => {
  it("connects when the server presents the pinned certificate and accepts our client certificate", async () => {
    const client = openPluginClient(
      {
        coreProtocolVersion: 1,
        appProtocolVersion: 1,
        network: "unix",
        address,
        protocol: "grpc",
        serverCertDer: der(serverCert),
      },
      clientCert,
    );
    const res = await unaryCall(client, RegionListerService.method.listRegions, {}, { timeoutMs: 5000 });
    expect(res.$typeName).toBe("flotilla.plugin.v1.ListRegionsResponse");
    client.close();
  });

  it("refuses a server whose certificate is not the pinned one", async () => {
    const other = await generateCertificate();
    const client = openPluginClient(
      {
        coreProtocolVersion: 1,
        appProtocolVersion: 1,
        network: "unix",
        address,
        protocol: "grpc",
        serverCertDer: der(other),
      },
      clientCert,
    );
    const err = await unaryCall(client, RegionListerService.method.listRegions, {}, { timeoutMs: 5000 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toMatch(/certificate|pin mismatch/i);
    client.close();
  });

  it("is refused by the server when the client presents another certificate", async () => {
    const stranger = await generateCertificate();
    const client = openPluginClient(
      {
        coreProtocolVersion: 1,
        appProtocolVersion: 1,
        network: "unix",
        address,
        protocol: "grpc",
        serverCertDer: der(serverCert),
      },
      stranger,
    );
    await expect(
      unaryCall(client, RegionListerService.method.listRegions, {}, { timeoutMs: 5000 }),
    ).rejects.toBeInstanceOf(UnavailableError);
    client.close();
  });
});
