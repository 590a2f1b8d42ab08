import { create } from "@bufbuild/protobuf";
import { JobSpecSchema } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import { canonicalJson, specDigest } from "./spec-digest.js";

describe("specDigest", () => {
  it("is the same for specs that mean the same, whatever order their maps were built in", () => {
    const a = create(JobSpecSchema, { command: ["echo"], env: { A: "1", B: "2" }, idempotencyKey: "k" });
    const b = create(JobSpecSchema, { env: { B: "2", A: "1" }, command: ["echo"], idempotencyKey: "k" });
    expect(specDigest(a)).toBe(specDigest(b));
    expect(specDigest(a)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("differs when anything the job would run differs", () => {
    const base = { command: ["echo", "hi"], idempotencyKey: "k" };
    const digest = specDigest(create(JobSpecSchema, base));
    expect(specDigest(create(JobSpecSchema, { ...base, command: ["echo", "ho"] }))).not.toBe(digest);
    expect(specDigest(create(JobSpecSchema, { ...base, env: { A: "1" } }))).not.toBe(digest);
    expect(specDigest(create(JobSpecSchema, { ...base, secretEnv: { A: "secret://env/A" } }))).not.toBe(digest);
  });

  it("sorts keys at every level", () => {
    expect(canonicalJson({ b: [{ d: 1, c: 2 }], a: "x" })).toBe('{"a":"x","b":[{"c":2,"d":1}]}');
  });
});
