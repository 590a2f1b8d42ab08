import { describe, expect, it } from "vitest";
import * as contract from "./index.js";
import * as wire from "./wire/index.js";

describe("the package's tiers", () => {
  it("keep the contract (.) and how it travels (./wire) apart: no name is in both", () => {
    const both = Object.keys(contract).filter((name) => name in wire);
    expect(both).toEqual([]);
  });

  it("put the handshake, the AutoMTLS certificate, grpc-js bindings and go-plugin's services in ./wire", () => {
    for (const name of [
      "parseHandshake",
      "MAGIC_COOKIE",
      "generateCertificate",
      "grpcServiceDefinition",
      "goplugin",
      "health",
    ]) {
      expect(name in wire, name).toBe(true);
    }
  });
});
