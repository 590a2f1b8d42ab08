import { InvalidArgumentError } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import { resourceNameFor } from "./resource-names.js";

// Cloud Run job names: lower-case letters, digits and '-', at most 63 characters.
const cloudRun = { maxLength: 63, allowed: /[a-z0-9-]/, lowerCase: true, prefix: "flt-" };
// ECS client tokens: up to 64 characters of ASCII 33-126.
const ecsToken = { maxLength: 64, allowed: /[!-~]/, prefix: "flotilla-" };

describe("resourceNameFor", () => {
  it("gives the same key the same name and other keys other names", () => {
    expect(resourceNameFor("nightly/report#1", cloudRun)).toBe(resourceNameFor("nightly/report#1", cloudRun));
    expect(resourceNameFor("nightly/report#1", cloudRun)).not.toBe(resourceNameFor("nightly/report#2", cloudRun));
  });

  it("keeps a readable part within the provider's characters and length, and ends with the key's hash", () => {
    const name = resourceNameFor("Nightly Report / 2026-11-28 #1", cloudRun);
    expect(name).toMatch(/^flt-nightly-report-2026-11-28-1-[0-9a-f]{16}$/);
    const long = resourceNameFor(`${"x".repeat(200)}-a`, cloudRun);
    expect(long).toHaveLength(63);
    expect(long).toMatch(/^flt-x+-[0-9a-f]{16}$/);
    // Keys that differ only past the readable part still get different names: the hash is of the whole key.
    expect(long).not.toBe(resourceNameFor(`${"x".repeat(200)}-b`, cloudRun));
  });

  it("follows another provider's rules", () => {
    const token = resourceNameFor("deploy 42 ✓ ünïcode", ecsToken);
    expect(token.length).toBeLessThanOrEqual(64);
    expect(token).toMatch(/^flotilla-deploy-42-[!-~]*[0-9a-f]{16}$/);
    expect([...token].every((c) => c >= "!" && c <= "~")).toBe(true);
  });

  it("is the hash alone when nothing of the key is allowed, and refuses rules that leave no room", () => {
    expect(resourceNameFor("✓✓✓", cloudRun)).toMatch(/^flt-[0-9a-f]{16}$/);
    expect(() => resourceNameFor("k", { ...cloudRun, maxLength: 10 })).toThrow(InvalidArgumentError);
  });
});
