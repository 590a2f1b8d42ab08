import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { generateCertificate } from "./auto-mtls-certificate.js";
import type { Handshake } from "./handshake.js";
import { derToPem, MAX_MESSAGE_BYTES, pluginChannel, pluginTarget } from "./plugin-channel.js";

const base = { coreProtocolVersion: 1, appProtocolVersion: 1, protocol: "grpc" as const };

describe("pluginTarget", () => {
  it("addresses Unix sockets with the unix: scheme and TCP as host:port", () => {
    expect(pluginTarget({ ...base, network: "unix", address: "/tmp/fl-x/p.sock" })).toBe("unix:/tmp/fl-x/p.sock");
    expect(pluginTarget({ ...base, network: "tcp", address: "127.0.0.1:41000" })).toBe("127.0.0.1:41000");
  });
});

describe("pluginChannel", () => {
  const plain: Handshake = { ...base, network: "unix", address: "/tmp/fl-x/p.sock" };

  it("is plaintext with 16 MiB message limits both ways when the handshake has no certificate", () => {
    const channel = pluginChannel(plain);
    expect(channel.target).toBe("unix:/tmp/fl-x/p.sock");
    expect(channel.credentials._isSecure()).toBe(false);
    expect(channel.options).toEqual({
      "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
      "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
    });
    expect(MAX_MESSAGE_BYTES).toBe(16 * 1024 * 1024);
  });

  it("pins the handshake's certificate, checked against localhost, when the plugin serves AutoMTLS", async () => {
    const [server, client] = await Promise.all([generateCertificate(), generateCertificate()]);
    const channel = pluginChannel({ ...plain, serverCertDer: server.certDer }, client);
    expect(channel.credentials._isSecure()).toBe(true);
    expect(channel.options["grpc.ssl_target_name_override"]).toBe("localhost");
    expect(channel.options["grpc.default_authority"]).toBe("localhost");
    expect(derToPem(server.certDer)).toBe(new X509Certificate(server.certPem).toString());
  });

  it("asks for the client certificate when the plugin serves AutoMTLS and none is given", async () => {
    const server = await generateCertificate();
    expect(() => pluginChannel({ ...plain, serverCertDer: server.certDer })).toThrow(
      /serves AutoMTLS .* pass the client certificate whose PEM the plugin received in PLUGIN_CLIENT_CERT/,
    );
  });
});
