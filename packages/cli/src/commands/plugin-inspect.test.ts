import { create } from "@bufbuild/protobuf";
import { ContractRegistrySchema } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import { buildReport, formatReport, nameForCommand } from "./plugin-inspect.js";

describe("plugin inspect", () => {
  it("names a plugin after its command", () => {
    expect(nameForCommand(["node", "plugins/aws/dist/main.js"])).toBe("aws");
    expect(nameForCommand(["/tmp/x/broken-plugin.sh"])).toBe("broken-plugin");
    expect(nameForCommand(["/usr/local/bin/flotilla-plugin-gcp"])).toBe("flotilla-plugin-gcp");
    expect(nameForCommand(["node", "main.js"])).toBe("plugin");
  });

  it("reports what the handshake and the registry said", () => {
    const registry = create(ContractRegistrySchema, {
      pluginName: "hello",
      pluginVersion: "1.2.3",
      protocolVersion: 1,
      services: ["flotilla.plugin.v1.RegionListerService"],
      configSchemaJson: '{"type":"object"}',
      sdk: "@flotilla/plugin-sdk 0.1.0",
    });
    const report = buildReport(
      ["node", "hello.js"],
      {
        coreProtocolVersion: 1,
        appProtocolVersion: 1,
        network: "unix",
        address: "/tmp/s.sock",
        protocol: "grpc",
        serverCertDer: new Uint8Array([1]),
      },
      registry,
      { handshakeMs: 40.2, readyMs: 55.7 },
    );
    expect(report).toMatchObject({
      plugin: "hello",
      version: "1.2.3",
      handshake: { autoMtls: true, multiplexSupported: null, address: "/tmp/s.sock" },
      configSchema: { type: "object" },
      targetSchema: null,
    });
    const text = formatReport(report);
    expect(text).toMatch(/^plugin +hello 1\.2\.3$/m);
    expect(text).toMatch(/AutoMTLS on/);
    expect(text).toMatch(/^services +flotilla\.plugin\.v1\.RegionListerService$/m);
    expect(text).toMatch(/^ready in +56 ms \(handshake after 40 ms\)$/m);
    expect(text).toMatch(/target schema\n {2}\(none: accepts any JSON object\)/);
    expect(report.sensitive).toEqual({ config: [], target: [] });
    expect(text).toMatch(/^sensitive +\(no key marked writeOnly\)$/m);
  });

  it("lists the keys the schemas mark sensitive", () => {
    const registry = create(ContractRegistrySchema, {
      pluginName: "vault",
      configSchemaJson: JSON.stringify({
        type: "object",
        properties: {
          address: { type: "string" },
          token: { type: "string", writeOnly: true },
          tls: { type: "object", properties: { key: { type: "string", writeOnly: true } } },
        },
      }),
      targetSchemaJson: JSON.stringify({
        type: "object",
        properties: { customJson: { type: "object", properties: { wrapKey: { type: "string", writeOnly: true } } } },
      }),
    });
    const handshake = {
      coreProtocolVersion: 1,
      appProtocolVersion: 1,
      network: "unix" as const,
      address: "/s",
      protocol: "grpc" as const,
    };
    const report = buildReport(["vault"], handshake, registry, { handshakeMs: 1, readyMs: 2 });
    expect(report.sensitive).toEqual({ config: ["tls.key", "token"], target: ["customJson.wrapKey"] });
    expect(formatReport(report)).toMatch(
      /^sensitive +config tls\.key, token; target customJson\.wrapKey \(writeOnly: shown as \[redacted\]\)$/m,
    );
  });
});
