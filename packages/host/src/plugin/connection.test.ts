import { describe, expect, it } from "vitest";
import { targetOf } from "./connection.js";

describe("targetOf", () => {
  it("addresses Unix sockets with the unix: scheme and TCP as host:port", () => {
    const base = { coreProtocolVersion: 1, appProtocolVersion: 1, protocol: "grpc" as const };
    expect(targetOf({ ...base, network: "unix", address: "/tmp/fl-x/p.sock" })).toBe("unix:/tmp/fl-x/p.sock");
    expect(targetOf({ ...base, network: "tcp", address: "127.0.0.1:41000" })).toBe("127.0.0.1:41000");
  });
});
