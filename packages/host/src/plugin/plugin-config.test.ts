import { create } from "@bufbuild/protobuf";
import { CredentialReferenceSchema, InvalidArgumentError } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import { validatePluginConfig } from "./plugin-config.js";

describe("validatePluginConfig", () => {
  const ok = { name: "aws", command: "/usr/bin/flotilla-aws" };

  it("accepts a minimal config", () => {
    expect(() => validatePluginConfig(ok)).not.toThrow();
  });

  it.each([
    [{ ...ok, name: "AWS" }, /"name" must be/],
    [{ ...ok, command: "" }, /"command" must name the plugin executable/],
    [{ ...ok, sha256: "xyz" }, /"sha256" must be 64 hex digits/],
    [{ ...ok, startTimeoutMs: 0 }, /"startTimeoutMs" must be a positive number/],
    // 600 hours: past Node's timer limit, where a plain timer fires at once and fails every start.
    [{ ...ok, startTimeoutMs: 600 * 3_600_000 }, /"startTimeoutMs" must be .* at most 3600000 \(one hour\)/],
    [{ ...ok, tcpPortRange: { min: 5, max: 1 } }, /"tcpPortRange" must have integer ports/],
  ])("rejects %j naming the key", (config, message) => {
    expect(() => validatePluginConfig(config)).toThrow(message);
    expect(() => validatePluginConfig(config)).toThrow(InvalidArgumentError);
  });

  it("accepts credentials only as secret:// references, never echoing a value", () => {
    const credential = (reference: string) => create(CredentialReferenceSchema, { name: "access_key_id", reference });
    expect(() => validatePluginConfig({ ...ok, credentials: [credential("secret://env/AWS_KEY")] })).not.toThrow();
    const attempt = () =>
      validatePluginConfig({ ...ok, credentials: [credential("secret://env/A"), credential("AKIAPLAINVALUE")] });
    expect(attempt).toThrow(InvalidArgumentError);
    expect(attempt).toThrow(/^plugin config "aws": credentials\[1\]\.reference: expected a secret reference/);
    expect(attempt).not.toThrow(/AKIAPLAINVALUE/);
  });
});
