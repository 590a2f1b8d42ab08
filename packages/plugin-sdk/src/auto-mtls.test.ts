import { X509Certificate } from "node:crypto";
import { connect } from "node:tls";
import { RegionListerService } from "@flotilla/protocol";
import { type GeneratedCertificate, generateCertificate, HandshakeEnv } from "@flotilla/protocol/wire";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { compiledFixture } from "./testing/fixtures/fixture-path.js";
import { pluginClient } from "./testing/plugin-client.js";
import { type SpawnedPlugin, spawnPlugin } from "./testing/spawn-plugin.js";

let hostCert: GeneratedCertificate;
let strangerCert: GeneratedCertificate;
const running: SpawnedPlugin[] = [];
const clients: { close(): void }[] = [];

beforeAll(async () => {
  [hostCert, strangerCert] = await Promise.all([generateCertificate(), generateCertificate()]);
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  for (const p of running.splice(0)) p.kill();
});

async function startTlsPlugin(): Promise<SpawnedPlugin> {
  const plugin = await spawnPlugin(process.execPath, [compiledFixture("fixture-plugin")], {
    env: { [HandshakeEnv.clientCert]: hostCert.certPem },
  });
  running.push(plugin);
  return plugin;
}

describe("AutoMTLS", () => {
  it("puts an unpadded base64 DER server certificate for localhost in the handshake", async () => {
    const plugin = await startTlsPlugin();
    const certField = plugin.handshakeLine.split("|")[5] ?? "";
    expect(certField).toMatch(/^[A-Za-z0-9+/]{100,}$/);
    const cert = new X509Certificate(Buffer.from(plugin.handshake.serverCertDer ?? []));
    expect(cert.checkHost("localhost")).toBe("localhost");
    expect(cert.ca).toBe(true);
  });

  it("serves a client that presents the host's certificate and pins the server's", async () => {
    const plugin = await startTlsPlugin();
    const client = pluginClient(plugin.handshake, RegionListerService, { tls: hostCert });
    clients.push(client);
    expect((await client.unary("listRegions", {})).regions[0]?.id).toBe("here");
  });

  it("rejects a client presenting another certificate", async () => {
    const plugin = await startTlsPlugin();
    const client = pluginClient(plugin.handshake, RegionListerService, { tls: strangerCert });
    clients.push(client);
    await expect(client.unary("listRegions", {}, { deadline: 10_000 })).rejects.toMatchObject({ code: 14 });
  });

  it("offers ALPN h2 (grpc-go ≥ 1.67 hosts refuse TLS without it)", async () => {
    const plugin = await startTlsPlugin();
    const protocol = await new Promise<string | false | null>((resolve, reject) => {
      const socket = connect({
        path: plugin.handshake.address,
        ALPNProtocols: ["h2"],
        ca: new X509Certificate(Buffer.from(plugin.handshake.serverCertDer ?? [])).toString(),
        cert: hostCert.certPem,
        key: hostCert.keyPem,
        servername: "localhost",
      });
      socket.once("secureConnect", () => {
        resolve(socket.alpnProtocol);
        socket.destroy();
      });
      socket.once("error", reject);
    });
    expect(protocol).toBe("h2");
  });

  it("refuses to start when PLUGIN_CLIENT_CERT is not a certificate, saying so", async () => {
    const err = await spawnPlugin(process.execPath, [compiledFixture("fixture-plugin")], {
      env: { [HandshakeEnv.clientCert]: "not a pem" },
    }).catch((e) => e);
    expect(err.exitCode).toBe(1);
    expect(err.stderr).toContain("PLUGIN_CLIENT_CERT is set but is not a PEM certificate");
  });
});
