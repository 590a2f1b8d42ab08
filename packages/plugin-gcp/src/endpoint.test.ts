import { InvalidArgumentError } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import { parseGcpEndpoint } from "./endpoint.js";

describe("parseGcpEndpoint", () => {
  it("reads HOST:PORT, IPv6 in brackets included", () => {
    expect(parseGcpEndpoint("127.0.0.1:8085", true)).toEqual({ host: "127.0.0.1", port: 8085, insecure: true });
    expect(parseGcpEndpoint("run.googleapis.com:443", false)).toEqual({
      host: "run.googleapis.com",
      port: 443,
      insecure: false,
    });
    expect(parseGcpEndpoint("[::1]:9000", true)).toEqual({ host: "::1", port: 9000, insecure: true });
  });

  it("refuses anything else with a message naming the key and the expected form, never the value", () => {
    for (const bad of ["localhost", "http://127.0.0.1:80", "h:0", "h:70000", ""]) {
      expect(() => parseGcpEndpoint(bad, false, "runEndpoint")).toThrow(InvalidArgumentError);
      expect(() => parseGcpEndpoint(bad, false, "runEndpoint")).toThrow(
        `runEndpoint (a value of ${bad.length} characters) is not HOST:PORT; give it as e.g. "127.0.0.1:8085"`,
      );
    }
    expect(() => parseGcpEndpoint("s3cr3t-token-value", false)).not.toThrow(/s3cr3t/);
  });
});
