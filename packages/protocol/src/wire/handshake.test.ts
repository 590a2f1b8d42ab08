import { describe, expect, it } from "vitest";
import {
  encodeServerCert,
  formatHandshake,
  HandshakeFormatError,
  HEALTH_SERVICE_NAME,
  MAX_HANDSHAKE_LINE_BYTES,
  parseHandshake,
  parseProtocolVersions,
} from "./handshake.js";

describe("handshake line", () => {
  it("round-trips a Unix socket line without a certificate (6 fields)", () => {
    const line = "1|1|unix|/tmp/plugin123/sock|grpc|";
    const parsed = parseHandshake(line);
    expect(parsed).toStrictEqual({
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
    expect(parseHandshake("1|1|tcp|127.0.0.1:1234|grpc")).toStrictEqual({
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
    expect(parseHandshake(`1|1|unix|/s|grpc|${"A".repeat(50)}`)).not.toHaveProperty("serverCertDer");
    // 51 base64 characters are 38 bytes (and 6 bits that do not make a byte).
    expect(parseHandshake(`1|1|unix|/s|grpc|${"A".repeat(51)}`).serverCertDer).toHaveLength(38);
  });

  it.each(["1", "t", "T", "TRUE", "true", "True"])(
    "reads the multiplexing flag %j as true, as Go's ParseBool does",
    (flag) => {
      expect(parseHandshake(`1|1|unix|/s|grpc||${flag}`).multiplexSupported).toBe(true);
    },
  );

  it.each(["0", "f", "F", "FALSE", "false", "False"])("reads the multiplexing flag %j as false", (flag) => {
    expect(parseHandshake(`1|1|unix|/s|grpc||${flag}`).multiplexSupported).toBe(false);
  });

  it("writes the multiplexing field only when it is known", () => {
    const base = {
      coreProtocolVersion: 1,
      appProtocolVersion: 1,
      network: "unix",
      address: "/s",
      protocol: "grpc",
    } as const;
    expect(formatHandshake(base)).toBe("1|1|unix|/s|grpc|");
    expect(formatHandshake({ ...base, multiplexSupported: false })).toBe("1|1|unix|/s|grpc||false");
    expect(formatHandshake({ ...base, multiplexSupported: true })).toBe("1|1|unix|/s|grpc||true");
  });

  it("takes an app protocol version of more than one digit", () => {
    expect(parseHandshake("1|12|unix|/s|grpc|").appProtocolVersion).toBe(12);
  });

  it("holds go-plugin's constants: the health service name and the longest line a Go host reads", () => {
    expect(HEALTH_SERVICE_NAME).toBe("plugin");
    expect(MAX_HANDSHAKE_LINE_BYTES).toBe(65_536);
    expect(new HandshakeFormatError("m", "l", "address").name).toBe("HandshakeFormatError");
  });

  it.each([
    ["garbage", "hello world", "field-count", 'expected 4 to 7 fields separated by "|"'],
    ["three fields", "1|1|unix", "field-count", "got 3"],
    ["eight fields", "1|1|unix|/s|grpc||true|extra", "field-count", "got 8"],
    ["four fields (net/rpc)", "1|1|unix|/s", "protocol", "no protocol field, which means go-plugin's net/rpc"],
    [
      "wrong core version",
      "2|1|unix|/s|grpc|",
      "core-protocol-version",
      "core protocol version 2 is not supported (this host speaks 1)",
    ],
    [
      "non-numeric core version",
      "one|1|unix|/s|grpc|",
      "core-protocol-version",
      'core protocol version "one" is not a number',
    ],
    ["netrpc", "1|1|unix|/s|netrpc|", "protocol", 'protocol "netrpc" is not supported; Flotilla speaks only "grpc"'],
    ["bad network", "1|1|udp|/s|grpc|", "network", 'network "udp" is not "unix" or "tcp"'],
    ["empty address", "1|1|unix||grpc|", "address", "address is empty"],
    ["bad mux flag", "1|1|unix|/s|grpc||maybe", "multiplex", 'multiplexing flag "maybe" is not "true" or "false"'],
    [
      "non-numeric app version",
      "1|x|unix|/s|grpc|",
      "app-protocol-version",
      'app protocol version "x" is not a number',
    ],
    [
      "a core version with a suffix",
      "1x|1|unix|/s|grpc|",
      "core-protocol-version",
      'core protocol version "1x" is not a number',
    ],
    [
      "a core version with a prefix",
      "x1|1|unix|/s|grpc|",
      "core-protocol-version",
      'core protocol version "x1" is not a number',
    ],
    [
      "a two-digit core version",
      "11|1|unix|/s|grpc|",
      "core-protocol-version",
      "core protocol version 11 is not supported",
    ],
    [
      "an app version with a suffix",
      "1|1x|unix|/s|grpc|",
      "app-protocol-version",
      'app protocol version "1x" is not a number',
    ],
    [
      "an app version with a prefix",
      "1|x1|unix|/s|grpc|",
      "app-protocol-version",
      'app protocol version "x1" is not a number',
    ],
    ["a certificate with a non-base64 prefix", `1|1|unix|/s|grpc|*${"A".repeat(60)}`, "server-cert", "not base64"],
    ["a certificate with a non-base64 suffix", `1|1|unix|/s|grpc|${"A".repeat(60)}*`, "server-cert", "not base64"],
    [
      "a certificate that is not base64",
      `1|1|unix|/s|grpc|${"*".repeat(60)}`,
      "server-cert",
      "server certificate is not base64",
    ],
  ] as const)("rejects %s, naming the field, quoting the line and saying what is wrong", (_name, line, field, why) => {
    let thrown: unknown;
    try {
      parseHandshake(line);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(HandshakeFormatError);
    expect(thrown).toMatchObject({ field, line });
    expect((thrown as Error).message).toContain(JSON.stringify(line));
    expect((thrown as Error).message).toContain(why);
  });

  it("tells a net/rpc plugin what to change", () => {
    expect(() => parseHandshake("1|1|unix|/s")).toThrow(/no protocol field, which means go-plugin's net\/rpc.*"grpc"/);
  });

  it("quotes a line of exactly 200 characters whole", () => {
    const line = `1|1|unix|${"x".repeat(200 - "1|1|unix||netrpc|".length)}|netrpc|`;
    expect(line).toHaveLength(200);
    expect(() => parseHandshake(line)).toThrow(expect.objectContaining({ line }) as unknown as Error);
  });

  it("quotes at most 200 characters of a long line", () => {
    const line = `1|1|unix|${"x".repeat(500)}|netrpc|`;
    expect(() => parseHandshake(line)).toThrow(
      expect.objectContaining({ line: `${line.slice(0, 200)}…` }) as unknown as Error,
    );
  });

  it("parses PLUGIN_PROTOCOL_VERSIONS, skipping empty entries", () => {
    expect(parseProtocolVersions("1, 2,3")).toEqual([1, 2, 3]);
    expect(parseProtocolVersions("1,,12,")).toEqual([1, 12]);
    expect(parseProtocolVersions(undefined)).toEqual([]);
    expect(parseProtocolVersions("")).toEqual([]);
  });

  it.each(["two", "2x", "x2"])("refuses the PLUGIN_PROTOCOL_VERSIONS entry %j", (entry) => {
    expect(() => parseProtocolVersions(`1,${entry}`)).toThrow(
      `PLUGIN_PROTOCOL_VERSIONS holds "${entry}", not a number`,
    );
  });
});
