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
    // 64 bytes: base64 ends in "==" when padded, and the field is longer than go-plugin's 50-character floor.
    const der = new Uint8Array(64).map((_, i) => i);
    const padded = Buffer.from(der).toString("base64");
    expect(padded.endsWith("==")).toBe(true);
    expect(encodeServerCert(der)).toBe(padded.slice(0, -2));
    const line = formatHandshake({
      coreProtocolVersion: 1,
      appProtocolVersion: 1,
      network: "unix",
      address: "/s",
      protocol: "grpc",
      serverCertDer: der,
    });
    expect(line).toBe(`1|1|unix|/s|grpc|${padded.slice(0, -2)}`);
    expect(Array.from(parseHandshake(line).serverCertDer ?? [])).toEqual(Array.from(der));
  });

  it("accepts the five-field line of go-plugin's guide for plugins in other languages", () => {
    expect(parseHandshake("1|1|tcp|127.0.0.1:1234|grpc")).toEqual({
      coreProtocolVersion: 1,
      appProtocolVersion: 1,
      network: "tcp",
      address: "127.0.0.1:1234",
      protocol: "grpc",
    });
  });

  it("trims surrounding whitespace as go-plugin's host does", () => {
    expect(parseHandshake("  1|2|unix|/s|grpc|\r\n").address).toBe("/s");
  });

  it("ignores a certificate field of 50 characters or fewer, as go-plugin's host does", () => {
    expect(parseHandshake(`1|1|unix|/s|grpc|${"A".repeat(50)}`).serverCertDer).toBeUndefined();
    expect(parseHandshake(`1|1|unix|/s|grpc|${"A".repeat(52)}`).serverCertDer).toHaveLength(39);
  });

  it("reads the multiplexing flag with the spellings Go's ParseBool takes", () => {
    expect(parseHandshake("1|1|unix|/s|grpc||1").multiplexSupported).toBe(true);
    expect(parseHandshake("1|1|unix|/s|grpc||F").multiplexSupported).toBe(false);
  });

  it.each([
    ["garbage", "hello world", "field-count"],
    ["three fields", "1|1|unix", "field-count"],
    ["eight fields", "1|1|unix|/s|grpc||true|extra", "field-count"],
    ["four fields (net/rpc)", "1|1|unix|/s", "protocol"],
    ["wrong core version", "2|1|unix|/s|grpc|", "core-protocol-version"],
    ["non-numeric core version", "one|1|unix|/s|grpc|", "core-protocol-version"],
    ["netrpc", "1|1|unix|/s|netrpc|", "protocol"],
    ["bad network", "1|1|udp|/s|grpc|", "network"],
    ["empty address", "1|1|unix||grpc|", "address"],
    ["bad mux flag", "1|1|unix|/s|grpc||maybe", "multiplex"],
    ["non-numeric app version", "1|x|unix|/s|grpc|", "app-protocol-version"],
    ["a certificate that is not base64", `1|1|unix|/s|grpc|${"*".repeat(60)}`, "server-cert"],
  ] as const)("rejects %s, naming the field and quoting the line", (_name, line, field) => {
    let thrown: unknown;
    try {
      parseHandshake(line);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(HandshakeFormatError);
    expect(thrown).toMatchObject({ field, line });
    expect((thrown as Error).message).toContain(JSON.stringify(line));
  });

  it("tells a net/rpc plugin what to change", () => {
    expect(() => parseHandshake("1|1|unix|/s")).toThrow(/no protocol field, which means go-plugin's net\/rpc.*"grpc"/);
  });

  it("quotes at most 200 characters of a long line", () => {
    const line = `1|1|unix|${"x".repeat(500)}|netrpc|`;
    expect(() => parseHandshake(line)).toThrow(
      expect.objectContaining({ line: `${line.slice(0, 200)}…` }) as unknown as Error,
    );
  });

  it("parses PLUGIN_PROTOCOL_VERSIONS", () => {
    expect(parseProtocolVersions("1, 2,3")).toEqual([1, 2, 3]);
    expect(parseProtocolVersions(undefined)).toEqual([]);
    expect(() => parseProtocolVersions("1,two")).toThrow(/PLUGIN_PROTOCOL_VERSIONS holds "two"/);
  });
});
