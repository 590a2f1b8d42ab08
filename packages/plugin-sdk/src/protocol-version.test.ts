import { describe, expect, it } from "vitest";
import { negotiateProtocolVersion } from "./protocol-version.js";
import { PluginStartupError } from "./startup-error.js";

describe("negotiateProtocolVersion", () => {
  it("picks the highest version both sides support", () => {
    expect(negotiateProtocolVersion("1,2,3", [1, 2])).toBe(2);
    expect(negotiateProtocolVersion("3, 1", [1, 2])).toBe(1);
    expect(negotiateProtocolVersion("1")).toBe(1);
  });

  it("serves its highest version to a host that sent none (go-plugin's behaviour)", () => {
    expect(negotiateProtocolVersion(undefined, [1, 2])).toBe(2);
    expect(negotiateProtocolVersion("", [1])).toBe(1);
  });

  it("fails with both lists when nothing is in common", () => {
    expect(() => negotiateProtocolVersion("2,3", [1])).toThrow(PluginStartupError);
    expect(() => negotiateProtocolVersion("2,3", [1])).toThrow(/PLUGIN_PROTOCOL_VERSIONS=2,3.*speaks 1/);
  });

  it("fails on a non-numeric entry, naming it", () => {
    expect(() => negotiateProtocolVersion("1,x")).toThrow(/"x", not a number/);
  });
});

describe("negotiateProtocolVersion's refusal", () => {
  it("names both sides' versions and the fix", () => {
    expect(() => negotiateProtocolVersion("3,2", [1, 0])).toThrow(
      "no protocol version in common: the host accepts PLUGIN_PROTOCOL_VERSIONS=3,2, this plugin (@flotilla/plugin-sdk) speaks 1,0; upgrade whichever side is older",
    );
  });
});
