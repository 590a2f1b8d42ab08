import { describe, expect, it } from "vitest";
import { channelCredentials, grpcTarget } from "./plugin-client.js";

describe("plugin client helpers", () => {
  it("addresses Unix sockets with the unix: scheme and TCP as host:port", () => {
    const base = { coreProtocolVersion: 1, appProtocolVersion: 1, protocol: "grpc" as const };
    expect(grpcTarget({ ...base, network: "unix", address: "/tmp/x.sock" })).toBe("unix:/tmp/x.sock");
    expect(grpcTarget({ ...base, network: "tcp", address: "127.0.0.1:1234" })).toBe("127.0.0.1:1234");
  });

  it("refuses to build insecure credentials for a plugin that serves TLS", () => {
    expect(() =>
      channelCredentials({
        coreProtocolVersion: 1,
        appProtocolVersion: 1,
        network: "unix",
        address: "/x",
        protocol: "grpc",
        serverCertDer: new Uint8Array([1]),
      }),
    ).toThrow(/serves TLS/);
  });
});
