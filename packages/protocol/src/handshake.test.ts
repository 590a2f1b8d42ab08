import { describe, expect, it } from "vitest";
import {
  encodeServerCert,
  formatHandshake,
  HandshakeFormatError,
  parseHandshake,
  parseProtocolVersions,
} from "./handshake.js";

describe("handshake line", () => {
  it("round-trips a Unix socket line without a certificate (6 fields)", () => {
    const line = "1|1|unix|/tmp/plugin123/sock|grpc|";
    const parsed = parseHandshake(line);
    expect(parsed).toEqual({
      coreProtocolVersion: 1,
      appProtocolVersion: 1,
      network: "unix",
      address: "/tmp/plugin123/sock",
      protocol: "grpc",
    });
    expect(formatHandshake(parsed)).toBe(line);
  });

  it("accepts the seventh multiplexing field", () => {
    expect(parseHandshake("1|3|tcp|127.0.0.1:1234|grpc||true\n").multiplexSupported).toBe(true);
    expect(parseHandshake("1|3|tcp|127.0.0.1:1234|grpc||false").multiplexSupported).toBe(false);
  });

  it("encodes the server certificate as unpadded base64, as Go hosts require", () => {
    const der = new Uint8Array([1, 2, 3, 4]); // base64 "AQIDBA==" padded
    expect(encodeServerCert(der)).toBe("AQIDBA");
    const line = formatHandshake({
      coreProtocolVersion: 1,
      appProtocolVersion: 1,
      network: "unix",
      address: "/s",
      protocol: "grpc",
      serverCertDer: der,
    });
    expect(line).toBe("1|1|unix|/s|grpc|AQIDBA");
    expect(Array.from(parseHandshake(line).serverCertDer ?? [])).toEqual([1, 2, 3, 4]);
  });

  it.each([
    ["garbage", "hello world", /expected 6 or 7 fields/],
    ["wrong core version", "2|1|unix|/s|grpc|", /core protocol version 2 is not supported/],
    ["netrpc", "1|1|unix|/s|netrpc|", /not supported; Flotilla speaks only "grpc"/],
    ["bad network", "1|1|udp|/s|grpc|", /network "udp"/],
    ["empty address", "1|1|unix||grpc|", /address is empty/],
    ["bad mux flag", "1|1|unix|/s|grpc||maybe", /multiplexing flag "maybe"/],
    ["non-numeric app version", "1|x|unix|/s|grpc|", /app protocol version "x"/],
  ])("rejects %s with a message quoting the line", (_name, line, message) => {
    expect(() => parseHandshake(line)).toThrow(HandshakeFormatError);
    expect(() => parseHandshake(line)).toThrow(message);
  });

  it("parses PLUGIN_PROTOCOL_VERSIONS", () => {
    expect(parseProtocolVersions("1, 2,3")).toEqual([1, 2, 3]);
    expect(parseProtocolVersions(undefined)).toEqual([]);
    expect(() => parseProtocolVersions("1,two")).toThrow(/PLUGIN_PROTOCOL_VERSIONS holds "two"/);
  });
});
