import { describe, expect, it } from "vitest";
import { createLogger, hclogTimestamp, REDACTED } from "./logger.js";

function capture(level?: "debug" | "info" | "warn" | "error") {
  const lines: string[] = [];
  const logger = createLogger({
    module: "aws",
    write: (l) => lines.push(l),
    now: () => new Date("2026-01-02T03:04:05.678Z"),
    ...(level ? { level } : {}),
  });
  return { logger, lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe("createLogger", () => {
  it("writes one hclog JSON object per line with level, message, module, timestamp and fields", () => {
    const { logger, lines, records } = capture();
    logger.warn("quota low", { remaining: 3, region: "eu-west-1" });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith("\n")).toBe(true);
    expect(records()[0]).toEqual({
      "@level": "warn",
      "@message": "quota low",
      "@module": "aws",
      "@timestamp": "2026-01-02T03:04:05.678000Z",
      remaining: 3,
      region: "eu-west-1",
    });
  });

  it("drops records below the threshold", () => {
    const { logger, records } = capture("warn");
    logger.debug("d");
    logger.info("i");
    logger.error("e");
    expect(records().map((r) => r["@level"])).toEqual(["error"]);
  });

  it("redacts fields whose names look secret, at any depth, and keeps the others", () => {
    const { logger, records } = capture();
    logger.info("configured", {
      password: "p4ss",
      apiToken: "t0k",
      nested: { secretAccessKey: "s3cr3t", privateKey: "-----BEGIN", region: "us" },
      credentials: [{ id: 1 }],
      user: "alice",
    });
    const record = records()[0] as Record<string, unknown>;
    const text = JSON.stringify(record);
    for (const secret of ["p4ss", "t0k", "s3cr3t", "-----BEGIN"]) expect(text).not.toContain(secret);
    expect(record.password).toBe(REDACTED);
    expect(record.credentials).toBe(REDACTED);
    expect((record.nested as Record<string, unknown>).region).toBe("us");
    expect(record.user).toBe("alice");
  });

  it("cannot have its reserved keys overwritten by fields", () => {
    const { logger, records } = capture();
    logger.info("real", { "@message": "fake", "@level": "error" });
    expect(records()[0]).toMatchObject({ "@message": "real", "@level": "info" });
  });

  it("logs errors as their message and survives unserialisable fields", () => {
    const { logger, records } = capture();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    logger.error("failed", { error: new Error("boom"), big: 10n });
    logger.error("cyclic", { cyclic });
    expect(records()[0]).toMatchObject({ error: { error: "boom", name: "Error" }, big: "10" });
    expect(records()[1]?.["@message"]).toContain("cyclic");
  });
});

describe("hclogTimestamp", () => {
  it("uses six fractional digits, as Go's hclog layout requires", () => {
    expect(hclogTimestamp(new Date("2026-11-23T09:01:51.007Z"))).toBe("2026-11-23T09:01:51.007000Z");
  });
});

describe("createLogger, redaction in detail", () => {
  const capture = (level?: "debug" | "info") => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({
      module: "m",
      write: (line) => lines.push(JSON.parse(line)),
      ...(level ? { level } : {}),
      now: () => new Date(0),
    });
    return { logger, lines };
  };

  it('redacts pass, password, apikey, api_key and friends as "[redacted]"', () => {
    const { logger, lines } = capture();
    logger.info("x", { pass: "1", apikey: "2", api_key: "3", passphrase: "4", keep: "5" });
    expect(lines[0]).toMatchObject({
      pass: "[redacted]",
      apikey: "[redacted]",
      api_key: "[redacted]",
      passphrase: "[redacted]",
      keep: "5",
    });
    expect(REDACTED).toBe("[redacted]");
  });

  it("redacts four levels down, and inside arrays", () => {
    const { logger, lines } = capture();
    logger.info("x", { a: { b: { c: { d: { password: "deep" } } } }, list: [{ token: "t" }, 1] });
    expect(lines[0]).toMatchObject({
      a: { b: { c: { d: { password: "[redacted]" } } } },
      list: [{ token: "[redacted]" }, 1],
    });
  });

  it("stops descending into a cyclic array and reports the fields as not serialisable", () => {
    const { logger, lines } = capture();
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    logger.warn("cyclic", { cyclic });
    expect(lines).toEqual([
      {
        "@level": "warn",
        "@message": "cyclic (fields not serialisable)",
        "@module": "m",
        "@timestamp": "1970-01-01T00:00:00.000000Z",
      },
    ]);
  });

  it("writes debug records when the level is debug", () => {
    const { logger, lines } = capture("debug");
    logger.debug("fine detail", { n: 1 });
    expect(lines).toEqual([
      {
        n: 1,
        "@level": "debug",
        "@message": "fine detail",
        "@module": "m",
        "@timestamp": "1970-01-01T00:00:00.000000Z",
      },
    ]);
  });
});
